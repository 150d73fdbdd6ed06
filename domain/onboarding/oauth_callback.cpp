#include "domain/onboarding/oauth_callback.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/encoding.hpp"
#include "common/errc.hpp"

namespace cxp::domain::oauth {

namespace {

constexpr size_t max_pasted_bytes = 8192;
constexpr size_t max_state_chars = 128;
constexpr size_t max_description_bytes = 200;

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1]))
          || !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(std::stoi(std::string{in.substr(i + 1, 2)}, nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

bool is_state_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string_view trim_quotes(std::string_view text) {
  text = trim_whitespace(text);
  while (text.size() >= 2
         && ((text.front() == '"' && text.back() == '"')
             || (text.front() == '\'' && text.back() == '\'')
             || (text.front() == '<' && text.back() == '>'))) {
    text = trim_whitespace(text.substr(1, text.size() - 2));
  }
  return text;
}

caf::error fail(errc code, const char* why) {
  return make_error(code, why);
}

/// Checks the origin and path of a URL (scheme included) and returns its query (or fragment).
caf::expected<std::string> query_of_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (ascii_lowercase(url.substr(0, scheme_end)) != "http") {
    return fail(errc::invalid_callback_origin, "callback scheme is not http");
  }
  auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail(errc::invalid_callback_origin, "callback carries userinfo");
  }
  const auto colon = authority.rfind(':');
  const auto host = ascii_lowercase(authority.substr(0, colon));
  const auto port =
    colon == std::string_view::npos ? std::string_view{} : authority.substr(colon + 1);
  if ((host != "localhost" && host != "127.0.0.1") || (port != "1455" && port != "1457")) {
    return fail(errc::invalid_callback_origin,
                "callback host or port is not the loopback callback");
  }
  const auto path_end = rest.find_first_of("?#");
  if (rest.substr(0, path_end) != "/auth/callback") {
    return fail(errc::invalid_callback_origin, "callback path is not /auth/callback");
  }
  if (path_end == std::string_view::npos) {
    return std::string{};
  }
  rest = rest.substr(path_end);
  std::string_view query;
  std::string_view fragment;
  if (rest.front() == '?') {
    const auto hash = rest.find('#');
    query = rest.substr(1, hash == std::string_view::npos ? std::string_view::npos : hash - 1);
    fragment = hash == std::string_view::npos ? std::string_view{} : rest.substr(hash + 1);
  } else {
    fragment = rest.substr(1);
  }
  if (!query.empty() && !fragment.empty()) {
    return fail(errc::invalid_callback_url, "callback has both a query and a fragment");
  }
  return std::string{query.empty() ? fragment : query};
}

} // namespace

caf::expected<callback_result> parse_callback(std::string_view pasted) {
  if (pasted.size() > max_pasted_bytes) {
    return fail(errc::invalid_callback_url, "pasted value too long");
  }
  auto text = trim_quotes(pasted);
  if (text.empty() || has_control_characters(text) || text.find(' ') != std::string_view::npos) {
    return fail(errc::invalid_callback_url, "pasted value is empty or holds spaces");
  }
  std::string query;
  const auto lower = ascii_lowercase(text.substr(0, 16));
  if (text.find("://") != std::string_view::npos) {
    auto found = query_of_url(text);
    if (!found) {
      return found.error();
    }
    query = std::move(*found);
  } else if (lower.starts_with("localhost") || lower.starts_with("127.0.0.1")) {
    auto found = query_of_url("http://" + std::string{text});
    if (!found) {
      return found.error();
    }
    query = std::move(*found);
  } else if (text.front() == '?' || text.front() == '#') {
    query = std::string{text.substr(1)};
  } else if (text.find('=') != std::string_view::npos && text.find('/') == std::string_view::npos) {
    query = std::string{text};
  } else {
    return fail(errc::invalid_callback_url, "pasted value is not a callback URL");
  }
  std::multimap<std::string, std::string> params;
  size_t start = 0;
  while (start < query.size()) {
    auto end = query.find('&', start);
    end = end == std::string::npos ? query.size() : end;
    const auto pair = std::string_view{query}.substr(start, end - start);
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!key || !value) {
      return fail(errc::invalid_callback_url, "malformed percent-encoding");
    }
    params.emplace(std::move(*key), std::move(*value));
    start = end + 1;
  }
  for (const char* key : {"code", "state", "error"}) {
    if (params.count(key) > 1) {
      return fail(errc::duplicate_callback_param, "repeated callback parameter");
    }
  }
  auto get = [&params](const char* key) {
    auto it = params.find(key);
    return it == params.end() ? std::string{} : it->second;
  };
  auto state = get("state");
  if (state.empty()) {
    return fail(errc::missing_state, "callback without state");
  }
  if (state.size() > max_state_chars
      || !std::all_of(state.begin(), state.end(), [](char c) { return is_state_char(c); })) {
    return fail(errc::invalid_state, "state has an invalid syntax");
  }
  callback_result out;
  out.state = secret<std::string>{std::move(state)};
  out.code = secret<std::string>{get("code")};
  out.error = get("error");
  if (out.code.expose().empty() == out.error.empty()) {
    return fail(out.error.empty() ? errc::missing_callback_result : errc::invalid_callback_url,
                "callback needs exactly one of code and error");
  }
  if (!out.error.empty()) {
    if (out.error.size() > 64 || !std::all_of(out.error.begin(), out.error.end(), [](char c) {
          return is_state_char(c);
        })) {
      out.error = "invalid_error";
    }
    auto description = get("error_description");
    std::string clean;
    for (char c : description) {
      if (clean.size() >= max_description_bytes) {
        break;
      }
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
        clean.push_back(c);
      }
    }
    out.error_description = std::move(clean);
  }
  return out;
}

} // namespace cxp::domain::oauth
