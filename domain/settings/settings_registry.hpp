#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "domain/settings/bulkheads.hpp"
#include "domain/settings/settings_sections.hpp"

namespace cxp::domain {

enum class setting_type { boolean, integer, string, string_list, bulkhead_table };

/// How a secret setting is kept at rest; non-secret settings are stored as plain JSON.
enum class secret_storage { none, hmac_digest };

/// One entry of the registry: the only place a setting's key, type, default and bounds live.
struct setting_spec {
  std::string key;
  setting_type type = setting_type::string;
  nlohmann::json default_value;
  std::string description;
  secret_storage secrecy = secret_storage::none;
  int64_t min = 0;
  int64_t max = 0;
  std::vector<std::string> allowed; ///< for enumerated strings; empty = any string

  bool is_secret() const { return secrecy != secret_storage::none; }
};

/// Every instance setting, in display order.
const std::vector<setting_spec>& setting_registry();

/// The spec for `key`, or nullptr when no such setting exists.
const setting_spec* find_setting(std::string_view key);

/// Checks `value` against `spec` and returns it normalised; the error context is a message fit
/// for a 422 field error (it never echoes a secret value).
caf::expected<nlohmann::json> validate_setting(const setting_spec& spec,
                                               const nlohmann::json& value);

class settings_section_reader;

/// An immutable snapshot of every setting: stored values over registry defaults, parsed once
/// into typed sections. A request takes one snapshot at its start and keeps it; a change
/// produces a new snapshot.
class instance_settings {
public:
  /// Every setting at its default.
  instance_settings();

  /// Builds a snapshot from stored `key -> JSON text`; unknown keys and invalid stored values are
  /// ignored (the default applies) so a bad row cannot stop a node from starting.
  static instance_settings from_stored(const std::map<std::string, std::string>& stored);

  const settings_sections& sections() const { return sections_; }
  const gateway_settings& gateway() const { return sections_.gateway; }
  const ingress_settings& ingress() const { return sections_.ingress; }

  /// True when a secret setting has a stored value.
  bool is_configured(std::string_view key) const;

  /// The admin view: every setting with its value (or `configured` for secrets), default and
  /// source (`default` or `database`).
  nlohmann::json describe() const;

private:
  friend class settings_section_reader;

  const nlohmann::json& value_of(std::string_view key) const;

  std::map<std::string, nlohmann::json, std::less<>> stored_;
  settings_sections sections_;
};

/// The keys the typed sections read; a registered key missing here is a setting nothing reads.
std::vector<std::string> settings_keys_with_a_reader();

} // namespace cxp::domain
