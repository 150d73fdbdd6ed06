#include "persistence/db/row_reader.hpp"

namespace cxp::persistence {

std::string row_reader::text(size_t column) const {
  return opt_text(column).value_or(std::string{});
}

std::optional<std::string> row_reader::opt_text(size_t column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  if (row_.get_properties(column).get_data_type() == soci::dt_string) {
    return row_.get<std::string>(column);
  }
  return std::to_string(int64(column));
}

int64_t row_reader::int64(size_t column) const {
  return opt_int64(column).value_or(0);
}

std::optional<int64_t> row_reader::opt_int64(size_t column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  switch (row_.get_properties(column).get_data_type()) {
  case soci::dt_integer:
    return row_.get<int>(column);
  case soci::dt_long_long:
    return row_.get<long long>(column);
  case soci::dt_unsigned_long_long:
    return static_cast<int64_t>(row_.get<unsigned long long>(column));
  case soci::dt_double:
    return static_cast<int64_t>(row_.get<double>(column));
  case soci::dt_string:
    return std::stoll(row_.get<std::string>(column));
  default:
    return std::nullopt;
  }
}

double row_reader::real(size_t column) const {
  if (is_null(column)) {
    return 0.0;
  }
  switch (row_.get_properties(column).get_data_type()) {
  case soci::dt_double:
    return row_.get<double>(column);
  case soci::dt_string:
    return std::stod(row_.get<std::string>(column));
  default:
    return static_cast<double>(int64(column));
  }
}

} // namespace cxp::persistence
