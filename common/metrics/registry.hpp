#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// A small Prometheus client shaped like prometheus-cpp: a `registry` owns metric `family<T>`
/// objects, each family hands out one `counter`, `gauge` or `histogram` per label set, and
/// `registry::collect()` takes a plain-data snapshot that `serialize_text` renders.
///
/// Names follow the style guide: `codex_pooler_<area>_<name>_{total,seconds,bytes}`, with
/// snake_case label names. Counter names must end in `_total`; gauges and histograms should not.
namespace cxp::metrics {

/// Label name to label value. Ordered by name, which is also the order they are rendered in.
using labels = std::map<std::string, std::string>;

/// The kind of a family, as spelled on the `# TYPE` line.
enum class metric_type : std::uint8_t { counter, gauge, histogram };

/// Returns "counter", "gauge" or "histogram".
std::string_view to_string(metric_type type);

/// True when `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
bool is_valid_metric_name(std::string_view name);

/// True when `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with the reserved `__`.
bool is_valid_label_name(std::string_view name);

/// The bucket upper bounds used when a histogram family is built without `buckets(...)`;
/// the Prometheus client default, in seconds.
std::vector<double> default_buckets();

// ---- snapshot types (plain data, produced by `registry::collect`) ------------------------------

/// One rendered label.
struct label_pair {
  std::string name;
  std::string value;
};

/// One cumulative histogram bucket: how many observations were `<= upper_bound`.
struct bucket_sample {
  double upper_bound = 0.0;
  std::uint64_t cumulative_count = 0;
};

/// A histogram's state at one instant. `buckets` is sorted by bound and ends with the +Inf bucket,
/// whose count equals `sample_count`.
struct histogram_sample {
  std::vector<bucket_sample> buckets;
  std::uint64_t sample_count = 0;
  double sample_sum = 0.0;
};

/// One child metric of a family: its full label set (constant labels merged in, sorted by name)
/// and its value. `value` is used by counters and gauges, `histogram` by histograms.
struct metric_sample {
  std::vector<label_pair> label_pairs;
  double value = 0.0;
  histogram_sample histogram;
};

/// A family at one instant, like prometheus-cpp's `MetricFamily`.
struct metric_family {
  std::string name;
  std::string help;
  metric_type type = metric_type::gauge;
  std::vector<metric_sample> metrics;
};

// ---- metrics ------------------------------------------------------------------------------------

/// A monotonically increasing value. Lock-free; safe to use from any thread.
class counter {
public:
  static constexpr metric_type type = metric_type::counter;

  /// Adds `by`. Negative and NaN amounts are ignored, so the value never decreases.
  void increment(double by = 1.0);

  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

/// A value that can go up and down. Lock-free; safe to use from any thread.
class gauge {
public:
  static constexpr metric_type type = metric_type::gauge;

  void set(double to) { value_.store(to, std::memory_order_relaxed); }
  void increment(double by = 1.0);
  void decrement(double by = 1.0);

  double value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<double> value_{0.0};
};

/// Counts observations into cumulative buckets (`le` = less than or equal) plus an implicit
/// +Inf bucket, and tracks their sum and count. `observe` is lock-free and safe from any thread;
/// a concurrent `snapshot` always has `sample_count` equal to the +Inf bucket, though `sample_sum`
/// may lag by the observations in flight.
class histogram {
public:
  static constexpr metric_type type = metric_type::histogram;

  /// Precondition: `upper_bounds` is strictly increasing and holds no NaN. A trailing +Inf is
  /// dropped because the +Inf bucket is always present.
  explicit histogram(std::vector<double> upper_bounds);

  /// Records one observation. NaN lands only in the +Inf bucket (and makes the sum NaN).
  void observe(double value);

  histogram_sample snapshot() const;

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

private:
  std::vector<double> upper_bounds_;
  /// Per-bucket (not cumulative) counts; the last slot is the +Inf bucket.
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;
  std::atomic<double> sum_{0.0};
};

template <class T>
concept metric_kind =
  std::same_as<T, counter> || std::same_as<T, gauge> || std::same_as<T, histogram>;

// ---- families -----------------------------------------------------------------------------------

/// Everything a family is built from; filled in by the builders.
struct family_spec {
  std::string name;
  std::string help;
  /// Labels attached to every child of the family.
  labels constant_labels;
  /// Default bucket bounds for histogram children; ignored by other kinds.
  std::vector<double> buckets;
};

namespace detail {

/// The type-erased face of a family that the registry stores and collects.
class family_base {
public:
  virtual ~family_base() = default;
  virtual metric_type type() const = 0;
  virtual const family_spec& spec() const = 0;
  /// Appends a snapshot of every child to `out.metrics`.
  virtual void collect_into(metric_family& out) const = 0;
};

} // namespace detail

/// All children of one metric name, one per distinct label set. Owned by a `registry`, which
/// hands out references that stay valid for the registry's lifetime. Thread-safe: the child map is
/// guarded by a mutex, the children themselves are lock-free.
template <metric_kind T>
class family final : public detail::family_base {
public:
  explicit family(family_spec spec);

  /// Returns the child for `child_labels`, creating it on first use; the same labels always give
  /// the same object, and the reference stays valid until `remove` or the registry dies. Takes the
  /// family mutex, so request paths should keep the reference rather than call `add` per request.
  /// Preconditions (asserted): label names are valid, do not repeat a constant label, and are
  /// not `le` for histograms. Histogram children use the family's default buckets.
  T& add(const labels& child_labels);

  /// Histogram only: as `add(labels)`, but with explicit bucket bounds. If the child already exists
  /// its original buckets are kept.
  T& add(const labels& child_labels,
         std::vector<double> buckets) requires std::same_as<T, histogram>;

  /// True when a child with exactly `child_labels` exists.
  bool has(const labels& child_labels) const;

  /// Drops the child for `child_labels`, if any. Invalidates references to it.
  void remove(const labels& child_labels);

  const std::string& name() const { return spec_.name; }
  const std::string& help() const { return spec_.help; }
  const labels& constant_labels() const { return spec_.constant_labels; }

  metric_type type() const override { return T::type; }
  const family_spec& spec() const override { return spec_; }
  void collect_into(metric_family& out) const override;

private:
  T& add_locked(const labels& child_labels, std::vector<double> buckets);

  family_spec spec_;
  mutable std::mutex mutex_;
  std::map<labels, std::unique_ptr<T>> children_;
};

// ---- registry -----------------------------------------------------------------------------------

/// Owns every family of one process (or one test). Thread-safe: families may be added and
/// collected from any thread. Not copyable or movable, because families are handed out by
/// reference; the registry must outlive every reference it gave out.
class registry {
public:
  registry();
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Returns the family named `spec.name`, creating it on first use. Registering an existing name
  /// with the same kind returns the existing family (its help, constant labels and buckets win).
  /// Preconditions (asserted): the name and constant label names are valid, counter names end in
  /// `_total`, and an existing name has the same kind and constant labels.
  template <metric_kind T>
  family<T>& add(family_spec spec);

  /// A snapshot of every family that has at least one child, sorted by name; children are sorted
  /// by label set.
  std::vector<metric_family> collect() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<detail::family_base>, std::less<>> families_;
  /// Families returned for a kind clash when asserts are off: usable, never collected.
  std::vector<std::unique_ptr<detail::family_base>> orphans_;
};

// ---- builders -----------------------------------------------------------------------------------

/// Fluent family builder, like prometheus-cpp's `BuildCounter()...Register(registry)`.
template <metric_kind T>
class builder {
public:
  builder& name(std::string value) {
    spec_.name = std::move(value);
    return *this;
  }
  builder& help(std::string value) {
    spec_.help = std::move(value);
    return *this;
  }
  /// Constant labels attached to every child.
  builder& labels(metrics::labels value) {
    spec_.constant_labels = std::move(value);
    return *this;
  }
  /// Histogram only: default bucket bounds for `family::add(labels)`; see `histogram`.
  builder& buckets(std::vector<double> value) requires std::same_as<T, histogram> {
    spec_.buckets = std::move(value);
    return *this;
  }

  /// Adds the family to `target` (see `registry::add`) and returns it.
  family<T>& register_(registry& target) { return target.add<T>(std::move(spec_)); }

private:
  family_spec spec_{{}, {}, {}, default_buckets()};
};

inline builder<counter> build_counter() {
  return {};
}
inline builder<gauge> build_gauge() {
  return {};
}
inline builder<histogram> build_histogram() {
  return {};
}

} // namespace cxp::metrics
