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

namespace cxp::domain {

enum class setting_type { boolean, integer, string, string_list, bulkhead_table };

/// How a secret setting is kept at rest; non-secret settings are stored as plain JSON.
enum class secret_storage { none, hmac_digest, encrypted };

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

/// An immutable snapshot of every setting: stored values over registry defaults. A request takes
/// one snapshot at its start and keeps it; a change produces a new snapshot.
class instance_settings {
public:
  /// Builds a snapshot from stored `key -> JSON text`; unknown keys and invalid stored values are
  /// ignored (the default applies) so a bad row cannot stop a node from starting.
  static instance_settings from_stored(const std::map<std::string, std::string>& stored);

  bool get_bool(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<std::string> get_string_list(std::string_view key) const;
  /// The limits of one route class from `gateway.bulkheads`.
  bulkhead_limits get_bulkhead(admission_class kind) const;

  /// True when a secret setting has a stored value.
  bool is_configured(std::string_view key) const;

  /// The stored (digest or ciphertext) form of a secret setting, for the code that verifies it.
  std::optional<std::string> stored_secret(std::string_view key) const;

  /// The admin view: every setting with its value (or `configured` for secrets), default and
  /// source (`default` or `database`).
  nlohmann::json describe() const;

private:
  const nlohmann::json& value_of(std::string_view key) const;

  std::map<std::string, nlohmann::json, std::less<>> stored_;
};

} // namespace cxp::domain
