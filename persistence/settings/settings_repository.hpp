#pragma once

#include <map>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "persistence/db/database.hpp"
#include "persistence/db/unit_of_work.hpp"

namespace cxp::persistence {

/// One stored instance setting: the key and its value as serialized JSON.
struct setting_row {
  std::string key;
  std::string value_json;
  std::optional<std::string> updated_by;
  std::string updated_at;
};

/// All SQL on `instance_settings`. Values are opaque JSON text here; types, defaults and secrecy
/// belong to the settings registry in actors/settings.
class settings_repository {
public:
  explicit settings_repository(database& db) : db_(db) {}

  caf::expected<std::map<std::string, setting_row>> load_all();

  /// A cheap value that changes whenever any setting is written or removed (poll for changes).
  caf::expected<std::string> revision();

  caf::expected<void> upsert(const setting_row& row);

  /// Removes a stored value so the key falls back to its default.
  caf::expected<void> remove(const std::string& key);

  /// The same writes inside a caller's transaction (a change commits with its audit event).
  static void upsert_in(unit_of_work& work, const setting_row& row);
  static void remove_in(unit_of_work& work, const std::string& key);

private:
  database& db_;
};

} // namespace cxp::persistence
