#include "edge/routes/v1/multipart.hpp"

#include <algorithm>
#include <cctype>

#include "common/encoding.hpp"

namespace cxp::edge::v1 {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

/// The value of `key=` in a header's parameters (quoted or not), or empty.
std::string parameter(std::string_view header, std::string_view key) {
  const auto lowered = ascii_lowercase(header);
  size_t at = 0;
  while ((at = lowered.find(key, at)) != std::string::npos) {
    const bool starts = at == 0 || lowered[at - 1] == ';' || lowered[at - 1] == ' ';
    const auto eq = at + key.size();
    if (starts && eq < lowered.size() && lowered[eq] == '=') {
      auto value = header.substr(eq + 1);
      if (!value.empty() && value.front() == '"') {
        value.remove_prefix(1);
        return std::string{value.substr(0, value.find('"'))};
      }
      return std::string{trim(value.substr(0, value.find(';')))};
    }
    at = eq;
  }
  return {};
}

} // namespace

std::string multipart_boundary(std::string_view content_type) {
  if (ascii_lowercase(content_type).rfind("multipart/form-data", 0) != 0) {
    return {};
  }
  return parameter(content_type, "boundary");
}

std::optional<std::vector<form_part>> parse_multipart(std::string_view content_type,
                                                      std::string_view body) {
  const auto boundary = multipart_boundary(content_type);
  if (boundary.empty()) {
    return std::nullopt;
  }
  const std::string delimiter = "--" + boundary;
  auto at = body.find(delimiter);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<form_part> parts;
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") {
      return parts;
    }
    if (body.substr(at, 2) != "\r\n") {
      return std::nullopt;
    }
    at += 2;
    const auto headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos) {
      return std::nullopt;
    }
    form_part part;
    auto headers = body.substr(at, headers_end - at);
    while (!headers.empty()) {
      auto line_end = headers.find("\r\n");
      auto line = headers.substr(0, line_end);
      headers =
        line_end == std::string_view::npos ? std::string_view{} : headers.substr(line_end + 2);
      const auto colon = line.find(':');
      if (colon == std::string_view::npos) {
        continue;
      }
      const auto name = ascii_lowercase(trim(line.substr(0, colon)));
      const auto value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        part.name = parameter(value, "name");
        part.filename = parameter(value, "filename");
      } else if (name == "content-type") {
        part.content_type = std::string{value};
      }
    }
    const auto data_start = headers_end + 4;
    const auto next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) {
      return std::nullopt;
    }
    part.data = std::string{body.substr(data_start, next - data_start)};
    parts.push_back(std::move(part));
    at = next + 2;
  }
}

std::string build_multipart(const std::vector<form_part>& parts, const std::string& boundary) {
  std::string out;
  for (const auto& part : parts) {
    out += "--" + boundary + "\r\n";
    out += "Content-Disposition: form-data; name=\"" + part.name + "\"";
    if (!part.filename.empty()) {
      out += "; filename=\"" + part.filename + "\"";
    }
    out += "\r\n";
    if (!part.content_type.empty()) {
      out += "Content-Type: " + part.content_type + "\r\n";
    }
    out += "\r\n" + part.data + "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

const form_part* find_part(const std::vector<form_part>& parts, std::string_view name) {
  auto it = std::find_if(parts.begin(), parts.end(),
                         [name](const form_part& part) { return part.name == name; });
  return it == parts.end() ? nullptr : &*it;
}

} // namespace cxp::edge::v1
