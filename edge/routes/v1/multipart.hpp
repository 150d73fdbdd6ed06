#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cxp::edge::v1 {

/// One part of a `multipart/form-data` body.
struct form_part {
  std::string name;
  std::string filename; ///< empty for plain fields
  std::string content_type;
  std::string data;
};

/// The `boundary` parameter of a `multipart/form-data` content type, or empty.
std::string multipart_boundary(std::string_view content_type);

/// The parts of a `multipart/form-data` body (RFC 7578), or nullopt when it is malformed.
std::optional<std::vector<form_part>> parse_multipart(std::string_view content_type,
                                                      std::string_view body);

/// A `multipart/form-data` body of `parts` delimited by `boundary`.
std::string build_multipart(const std::vector<form_part>& parts, const std::string& boundary);

/// The first part named `name`, or nullptr.
const form_part* find_part(const std::vector<form_part>& parts, std::string_view name);

} // namespace cxp::edge::v1
