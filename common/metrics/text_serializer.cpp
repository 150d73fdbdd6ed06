#include "common/metrics/text_serializer.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace cxp::metrics {

namespace {

// Below 2^53 every integer is exact in a double, so printing it as an integer loses nothing.
constexpr double max_exact_integer = 9007199254740992.0;
constexpr std::size_t number_buffer_size = 32;
constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

bool is_continuation(unsigned char c) {
  return c >= 0x80 && c <= 0xBF;
}

// Length of the well-formed UTF-8 sequence starting at `at`, or 0 if it is malformed
// (Unicode Table 3-7, which excludes overlongs and surrogates).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return static_cast<unsigned char>(text[at + i]);
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) {
    return 1;
  }
  std::size_t length = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    second_min = lead == 0xE0 ? 0xA0 : 0x80;
    second_max = lead == 0xED ? 0x9F : 0xBF;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    second_min = lead == 0xF0 ? 0x90 : 0x80;
    second_max = lead == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (at + length > text.size() || byte(1) < second_min || byte(1) > second_max) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (!is_continuation(byte(i))) {
      return 0;
    }
  }
  return length;
}

// Escapes for the text format; a scrape with raw newlines or invalid UTF-8 is rejected whole.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  std::size_t at = 0;
  while (at < text.size()) {
    const char c = text[at];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      const std::size_t length = utf8_sequence_length(text, at);
      if (length == 0) {
        out += replacement_character;
        ++at;
      } else {
        out.append(text, at, length);
        at += length;
      }
      continue;
    }
    ++at;
  }
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  std::array<char, number_buffer_size> buffer{};
  std::to_chars_result written{};
  if (std::abs(value) < max_exact_integer && std::trunc(value) == value) {
    written =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), static_cast<std::int64_t>(value));
  } else {
    written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  }
  out.append(buffer.data(), written.ptr);
}

struct extra_label {
  std::string_view name;
  double value;
};

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const std::vector<label_pair>& label_pairs, std::optional<extra_label> extra,
                   double value) {
  out += name;
  out += suffix;
  if (!label_pairs.empty() || extra) {
    out += '{';
    const char* separator = "";
    for (const auto& pair : label_pairs) {
      out += separator;
      out += pair.name;
      out += "=\"";
      append_escaped(out, pair.value, true);
      out += '"';
      separator = ",";
    }
    if (extra) {
      out += separator;
      out += extra->name;
      out += "=\"";
      append_number(out, extra->value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_number(out, value);
  out += '\n';
}

void append_histogram(std::string& out, const metric_family& family, const metric_sample& metric) {
  const auto& data = metric.histogram;
  for (const auto& bucket : data.buckets) {
    append_sample(out, family.name, "_bucket", metric.label_pairs,
                  extra_label{"le", bucket.upper_bound},
                  static_cast<double>(bucket.cumulative_count));
  }
  if (data.buckets.empty() || !std::isinf(data.buckets.back().upper_bound)) {
    append_sample(out, family.name, "_bucket", metric.label_pairs,
                  extra_label{"le", std::numeric_limits<double>::infinity()},
                  static_cast<double>(data.sample_count));
  }
  append_sample(out, family.name, "_sum", metric.label_pairs, std::nullopt, data.sample_sum);
  append_sample(out, family.name, "_count", metric.label_pairs, std::nullopt,
                static_cast<double>(data.sample_count));
}

} // namespace

std::string format_number(double value) {
  std::string result;
  append_number(result, value);
  return result;
}

std::string serialize_text(const std::vector<metric_family>& families) {
  std::string out;
  for (const auto& family : families) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    append_escaped(out, family.help, false);
    out += "\n# TYPE ";
    out += family.name;
    out += ' ';
    out += to_string(family.type);
    out += '\n';
    for (const auto& metric : family.metrics) {
      if (family.type == metric_type::histogram) {
        append_histogram(out, family, metric);
      } else {
        append_sample(out, family.name, "", metric.label_pairs, std::nullopt, metric.value);
      }
    }
  }
  return out;
}

} // namespace cxp::metrics
