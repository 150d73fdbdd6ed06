#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/registry.hpp"

namespace cxp::metrics {

/// The `Content-Type` of a `serialize_text` response body.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Renders `families` in the Prometheus text exposition format 0.0.4, in the order given.
///
/// Per family: `# HELP` (backslash and newline escaped), `# TYPE`, then one line per sample with
/// its labels in the order given. Counters and gauges render `name value`; histograms render
/// `name_bucket{...,le="<bound>"}` per bucket (adding `le="+Inf"` if the last bucket is finite),
/// `name_sum` and `name_count`. Names are rendered as-is: counter names are expected to already
/// end in `_total`. Label values escape backslash, double quote and newline; invalid UTF-8 in help
/// or label values becomes U+FFFD so the scrape still parses. Pure; safe from any thread.
std::string serialize_text(const std::vector<metric_family>& families);

/// Renders one sample value: integers below 2^53 without exponent or fraction ("42"), other
/// finite values as the shortest string that round-trips ("0.005", "1.5e+300"), and the
/// non-finite ones as "+Inf", "-Inf" and "NaN".
std::string format_number(double value);

} // namespace cxp::metrics
