#include "persistence/migrate/migration.hpp"

namespace cxp::persistence {

namespace {

bool is_blank(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "--") == 0) {
      i = text.find('\n', i);
      if (i == std::string::npos) {
        return true;
      }
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

} // namespace

std::vector<std::string> split_statements(const std::string& sql) {
  std::vector<std::string> statements;
  std::string current;
  size_t start = 0;
  while (start < sql.size()) {
    auto end = sql.find('\n', start);
    if (end == std::string::npos) {
      end = sql.size();
    }
    std::string line = sql.substr(start, end - start);
    start = end + 1;
    auto last = line.find_last_not_of(" \t\r");
    if (last != std::string::npos && line[last] == ';') {
      current += line.substr(0, last);
      if (!is_blank(current)) {
        statements.push_back(current);
      }
      current.clear();
    } else {
      current += line + "\n";
    }
  }
  if (!is_blank(current)) {
    statements.push_back(current);
  }
  return statements;
}

} // namespace cxp::persistence
