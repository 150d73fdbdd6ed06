#include "domain/request_logs/client_agent.hpp"

#include <cctype>
#include <vector>

namespace cxp::domain {

namespace {

constexpr size_t max_version_length = 32;
constexpr size_t max_name_length = 32;

bool is_lower_word(std::string_view text, size_t max_length) {
  if (text.empty() || text.size() > max_length) {
    return false;
  }
  for (char c : text) {
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))
        && c != '_') {
      return false;
    }
  }
  return true;
}

std::string lowered(std::string_view text) {
  std::string out{text};
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

/// The version when `text` is a plain one, else empty.
std::string version_of(std::string_view text) {
  if (text.empty() || text.size() > max_version_length
      || !std::isdigit(static_cast<unsigned char>(text.front()))) {
    return {};
  }
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+') {
      return {};
    }
  }
  return std::string{text};
}

/// The whitespace-separated tokens of the header, outside parentheses (comments).
std::vector<std::string_view> tokens_of(std::string_view text) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (c == '(') {
      ++depth;
    }
    const bool separator = c == ' ' || c == '\t' || c == '(' || c == ')' || depth > 0;
    if (separator && start != std::string_view::npos) {
      out.push_back(text.substr(start, i - start));
      start = std::string_view::npos;
    } else if (!separator && start == std::string_view::npos) {
      start = i;
    }
    if (c == ')' && depth > 0) {
      --depth;
    }
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_product(std::string_view token) {
  const auto slash = token.find('/');
  if (slash == std::string_view::npos) {
    return {token, {}};
  }
  return {token.substr(0, slash), token.substr(slash + 1)};
}

} // namespace

client_agent parse_client_agent(std::string_view user_agent) {
  const auto tokens = tokens_of(user_agent);
  if (tokens.empty()) {
    return {};
  }
  const auto [name, rest] = split_product(tokens.front());
  const auto lower_name = lowered(name);
  if (lower_name.rfind("codex_", 0) == 0 && is_lower_word(lower_name, max_name_length)) {
    return {lower_name, version_of(rest)};
  }
  if (lower_name == "openai" && !rest.empty()) {
    // OpenAI/Python 1.52.0, OpenAI/JS 4.67.3: the language, then the version.
    auto language = lowered(rest);
    if (language == "js") {
      language = "node";
    }
    if (!is_lower_word(language, 16)) {
      return {};
    }
    return {"openai-" + language, tokens.size() > 1 ? version_of(tokens[1]) : std::string{}};
  }
  if (lower_name == "curl") {
    return {"curl", version_of(rest)};
  }
  for (const auto token : tokens) {
    const auto [product, tail] = split_product(token);
    if (product == "ai-sdk") {
      // ai-sdk/openai/2.0.1: the version is the last segment.
      const auto last = tail.rfind('/');
      return {"ai-sdk", version_of(last == std::string_view::npos ? tail : tail.substr(last + 1))};
    }
    if (product == "ai") {
      return {"ai-sdk", version_of(tail)};
    }
  }
  return {};
}

std::string client_label(const client_agent& agent) {
  return agent.version.empty() ? agent.family : agent.family + "/" + agent.version;
}

client_agent split_client_label(std::string_view label) {
  const auto slash = label.find('/');
  if (slash == std::string_view::npos) {
    return {std::string{label}, {}};
  }
  return {std::string{label.substr(0, slash)}, std::string{label.substr(slash + 1)}};
}

} // namespace cxp::domain
