#pragma once

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cxp::domain {

/// The result of resolving a selector over a list: one match, or the candidates it could mean
/// (empty when nothing matched).
struct selection {
  std::optional<size_t> match;
  std::vector<size_t> candidates;
};

/// At most this many candidates are returned for an ambiguous selector.
constexpr size_t max_selector_candidates = 10;

namespace detail {

inline std::string folded(std::string_view text) {
  std::string out{text};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

} // namespace detail

/// Resolves `selector` over `items`, whose identifying strings (id, slug, name, …) `keys(item)`
/// lists: an item one of whose keys equals the selector (ignoring case) wins; when none does, an
/// item one of whose keys starts with it. Several items at the same stage are ambiguous.
template <class T, class Keys>
selection select_one(const std::vector<T>& items, std::string_view selector, Keys keys) {
  const auto wanted = detail::folded(selector);
  for (const bool exact : {true, false}) {
    std::vector<size_t> hits;
    for (size_t i = 0; i < items.size(); ++i) {
      for (const auto& key : keys(items[i])) {
        const auto candidate = detail::folded(key);
        if (exact ? candidate == wanted : candidate.rfind(wanted, 0) == 0) {
          hits.push_back(i);
          break;
        }
      }
    }
    if (hits.size() == 1) {
      return {hits.front(), {}};
    }
    if (!hits.empty()) {
      hits.resize(std::min(hits.size(), max_selector_candidates));
      return {std::nullopt, std::move(hits)};
    }
  }
  return {};
}

} // namespace cxp::domain
