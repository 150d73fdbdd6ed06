// Instance settings values (`PATCH /admin/api/settings`, and the stored rows a node reads at
// start): the first byte picks a setting of the registry, the rest is its value as JSON text.
// The value is validated (domain/settings/settings_registry.cpp) as an admin change is, and the
// raw text is loaded as a stored row is, then read back through the typed sections.

#include "common/json_input.hpp"
#include "domain/settings/settings_registry.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace domain = cxp::domain;
  if (size == 0) {
    return 0;
  }
  const auto& registry = domain::setting_registry();
  const auto& spec = registry[data[0] % registry.size()];
  const auto text = cxp::fuzz::text_of(data + 1, size - 1);
  cxp::fuzz::require(domain::find_setting(spec.key) == &spec, "a registered key is found");

  nlohmann::json value;
  if (!cxp::parse_untrusted(text, value)) {
    if (auto valid = domain::validate_setting(spec, value)) {
      cxp::fuzz::keep(valid->dump());
    } else {
      cxp::fuzz::keep(valid.error().code());
    }
  }

  const auto snapshot = domain::instance_settings::from_stored({{spec.key, std::string{text}}});
  cxp::fuzz::keep(snapshot.sections().gateway.bulkheads);
  for (const auto& item : snapshot.describe()) {
    if (item["key"] == spec.key && spec.type == domain::setting_type::integer) {
      const auto number = item["value"].get<int64_t>();
      cxp::fuzz::require(number >= spec.min && number <= spec.max, "a stored integer is in range");
    }
  }
  cxp::fuzz::keep(snapshot.is_configured(spec.key));
  return 0;
}
