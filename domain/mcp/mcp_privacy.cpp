#include "domain/mcp/mcp_privacy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "persistence/crypto/key_hash.hpp"

namespace cxp::domain {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 8> dropped_members = {
  "access_token", "refresh_token", "id_token",  "token",
  "raw_key",      "raw_token",     "auth_json", "password"};
constexpr std::array<std::string_view, 2> ip_members = {"client_ip", "ip"};
constexpr std::array<std::string_view, 2> hashed_id_members = {"chatgpt_account_id",
                                                               "chatgpt_user_id"};
constexpr std::array<std::string_view, 2> credential_schemes = {"sk-cxp-", "mcp-cxp-"};
constexpr std::string_view redacted = "[redacted]";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

template <size_t N>
bool is_one_of(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_secret_member(std::string_view name, const json& value) {
  return ends_with(name, "_hash") || ends_with(name, "_secret") || ends_with(name, "_password")
         || ends_with(name, "_ciphertext") || is_one_of(dropped_members, name)
         || (name == "secret" && value.is_string());
}

bool is_email_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-'
         || c == '+' || c == '%';
}

/// Masks every address-shaped run ("local@domain.tld") inside `text`.
std::string mask_emails_in(const std::string& text) {
  if (text.find('@') == std::string::npos) {
    return text;
  }
  std::string out;
  size_t copied = 0;
  for (size_t at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
    size_t start = at;
    while (start > copied && is_email_char(text[start - 1])) {
      --start;
    }
    size_t end = at + 1;
    while (end < text.size() && is_email_char(text[end])) {
      ++end;
    }
    const auto domain = std::string_view{text}.substr(at + 1, end - at - 1);
    if (start == at || domain.find('.') == std::string_view::npos) {
      continue;
    }
    out.append(text, copied, start - copied);
    out += mask_email(std::string_view{text}.substr(start, end - start));
    copied = end;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

/// True for a full credential (scheme, 12 hex, '-', secret) or a JWT (three dot-separated
/// base64url parts starting "eyJ"): neither may leave, even if some bug put one in a string.
bool holds_credential(std::string_view text) {
  for (auto scheme : credential_schemes) {
    const auto at = text.find(scheme);
    if (at != std::string_view::npos && text.size() > at + scheme.size() + 13
        && text[at + scheme.size() + 12] == '-') {
      return true;
    }
  }
  const auto jwt = text.find("eyJ");
  return jwt != std::string_view::npos
         && std::count(text.begin() + static_cast<std::ptrdiff_t>(jwt), text.end(), '.') >= 2
         && text.size() - jwt > 40;
}

std::string short_digest(std::string_view value) {
  return "sha256:" + persistence::sha256_hex(value).substr(0, 8);
}

json sanitize_value(std::string_view member, const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [name, item] : value.items()) {
      if (is_secret_member(name, item)) {
        continue;
      }
      out[name] = sanitize_value(name, item);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) {
      out.push_back(sanitize_value(member, item));
    }
    return out;
  }
  if (!value.is_string()) {
    return value;
  }
  const auto& text = value.get_ref<const std::string&>();
  if (holds_credential(text)) {
    return redacted;
  }
  if (is_one_of(ip_members, member)) {
    return mask_ip(text);
  }
  if (is_one_of(hashed_id_members, member)) {
    return short_digest(text);
  }
  return mask_emails_in(text);
}

} // namespace

std::string mask_email(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0) {
    return "***";
  }
  return std::string{email.substr(0, 1)} + "***" + std::string{email.substr(at)};
}

std::string mask_ip(std::string_view ip) {
  if (std::count(ip.begin(), ip.end(), '.') == 3) {
    const auto first = ip.find('.');
    const auto second = ip.find('.', first + 1);
    return std::string{ip.substr(0, second)} + ".*.*";
  }
  if (ip.find(':') != std::string_view::npos) {
    const auto first = ip.find(':');
    const auto second = ip.find(':', first + 1);
    return std::string{ip.substr(0, second == std::string_view::npos ? first : second)} + ":*";
  }
  return "***";
}

json sanitize_for_mcp(const json& value) {
  return sanitize_value({}, value);
}

} // namespace cxp::domain
