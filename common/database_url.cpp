#include "common/database_url.hpp"

#include <charconv>

#include "common/errc.hpp"

namespace cxp {

namespace {

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec == std::errc{} && ptr == text.data() + i + 3) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

caf::expected<database_url> parse_postgres(std::string_view rest) {
  database_url url;
  url.kind = database_kind::postgres;
  if (auto query = rest.find('?'); query != std::string_view::npos) {
    url.options = std::string{rest.substr(query + 1)};
    rest = rest.substr(0, query);
  }
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) {
    return make_error(errc::config_invalid, "a postgres URL needs a database name after the host");
  }
  url.dbname = percent_decode(rest.substr(slash + 1));
  auto authority = rest.substr(0, slash);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      url.user = percent_decode(userinfo.substr(0, colon));
      url.password = secret<std::string>{percent_decode(userinfo.substr(colon + 1))};
    } else {
      url.user = percent_decode(userinfo);
    }
  }
  if (auto colon = authority.rfind(':');
      colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    auto port_text = authority.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || value == 0
        || value > 65535) {
      return make_error(errc::config_invalid, "the postgres port must be a number from 1 to 65535");
    }
    url.port = static_cast<uint16_t>(value);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) {
    return make_error(errc::config_invalid, "a postgres URL needs a host");
  }
  url.host = std::string{authority};
  return url;
}

} // namespace

std::string database_url::redacted() const {
  if (kind == database_kind::sqlite) {
    return "sqlite://" + path;
  }
  std::string out = "postgres://";
  if (!user.empty()) {
    out += user;
    if (!password.empty()) {
      out += ":***";
    }
    out += "@";
  }
  out += host + ":" + std::to_string(port) + "/" + dbname;
  return out;
}

caf::expected<database_url> parse_database_url(std::string_view text) {
  constexpr std::string_view sqlite_scheme = "sqlite://";
  constexpr std::string_view postgres_schemes[] = {"postgres://", "postgresql://"};
  if (text.starts_with(sqlite_scheme)) {
    database_url url;
    url.path = std::string{text.substr(sqlite_scheme.size())};
    if (url.path.empty()) {
      return make_error(errc::config_invalid,
                        "a sqlite URL needs a file path (sqlite:///abs/path)");
    }
    return url;
  }
  for (auto scheme : postgres_schemes) {
    if (text.starts_with(scheme)) {
      return parse_postgres(text.substr(scheme.size()));
    }
  }
  return make_error(errc::config_invalid, "must start with sqlite:// or postgres://");
}

} // namespace cxp
