#include "common/metrics/registry.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>

namespace cxp::metrics {

namespace {

constexpr std::string_view counter_suffix = "_total";
constexpr std::string_view reserved_label_prefix = "__";
constexpr std::string_view bucket_label = "le";

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// compare_exchange rather than a lock: counters and gauges sit on the request path.
void atomic_add(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
  }
}

[[maybe_unused]] bool is_strictly_increasing(const std::vector<double>& bounds) {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      return false;
    }
  }
  return true;
}

bool has_valid_names(const labels& label_set) {
  return std::all_of(label_set.begin(), label_set.end(),
                     [](const auto& entry) { return is_valid_label_name(entry.first); });
}

[[maybe_unused]] bool is_allowed_child_labels(const family_spec& spec, metric_type type,
                                              const labels& child) {
  if (!has_valid_names(child)) {
    return false;
  }
  for (const auto& [name, value] : child) {
    if (spec.constant_labels.contains(name)) {
      return false;
    }
    if (type == metric_type::histogram && name == bucket_label) {
      return false;
    }
  }
  return true;
}

std::vector<label_pair> merge_labels(const family_spec& spec, const labels& child) {
  labels merged = spec.constant_labels;
  merged.insert(child.begin(), child.end());
  std::vector<label_pair> result;
  result.reserve(merged.size());
  for (auto& [name, value] : merged) {
    result.push_back(label_pair{name, value});
  }
  return result;
}

void fill_sample(metric_sample& out, const counter& metric) {
  out.value = metric.value();
}
void fill_sample(metric_sample& out, const gauge& metric) {
  out.value = metric.value();
}
void fill_sample(metric_sample& out, const histogram& metric) {
  out.histogram = metric.snapshot();
}

} // namespace

std::string_view to_string(metric_type type) {
  switch (type) {
  case metric_type::counter:
    return "counter";
  case metric_type::gauge:
    return "gauge";
  case metric_type::histogram:
    return "histogram";
  }
  return "untyped";
}

bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return is_ascii_letter(c) || is_ascii_digit(c) || c == '_' || c == ':';
  });
}

bool is_valid_label_name(std::string_view name) {
  if (name.empty() || is_ascii_digit(name.front()) || name.starts_with(reserved_label_prefix)) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_ascii_letter(c) || is_ascii_digit(c) || c == '_'; });
}

std::vector<double> default_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

// ---- metrics ------------------------------------------------------------------------------------

void counter::increment(double by) {
  // `!(by > 0)` also rejects NaN, which would poison the value forever.
  if (!(by > 0.0)) {
    return;
  }
  atomic_add(value_, by);
}

void gauge::increment(double by) {
  atomic_add(value_, by);
}

void gauge::decrement(double by) {
  atomic_add(value_, -by);
}

histogram::histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  if (!upper_bounds_.empty() && upper_bounds_.back() == std::numeric_limits<double>::infinity()) {
    upper_bounds_.pop_back();
  }
  assert(is_strictly_increasing(upper_bounds_) && "histogram buckets must strictly increase");
  bucket_counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
}

void histogram::observe(double value) {
  // lower_bound finds the first bound >= value, i.e. the `le` bucket; NaN compares false with
  // everything, so route it to +Inf explicitly.
  const auto index =
    std::isnan(value)
      ? upper_bounds_.size()
      : static_cast<std::size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value)
                                 - upper_bounds_.begin());
  bucket_counts_[index].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, value);
}

histogram_sample histogram::snapshot() const {
  histogram_sample result;
  result.buckets.reserve(upper_bounds_.size() + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += bucket_counts_[i].load(std::memory_order_relaxed);
    const double bound =
      i < upper_bounds_.size() ? upper_bounds_[i] : std::numeric_limits<double>::infinity();
    result.buckets.push_back(bucket_sample{bound, cumulative});
  }
  // Deriving the count from the buckets keeps `count == +Inf bucket` under concurrent observe.
  result.sample_count = cumulative;
  result.sample_sum = sum_.load(std::memory_order_relaxed);
  return result;
}

// ---- families -----------------------------------------------------------------------------------

template <metric_kind T>
family<T>::family(family_spec spec) : spec_(std::move(spec)) {}

template <metric_kind T>
T& family<T>::add(const labels& child_labels) {
  return add_locked(child_labels, spec_.buckets);
}

template <metric_kind T>
T& family<T>::add(const labels& child_labels,
                  std::vector<double> buckets) requires std::same_as<T, histogram> {
  return add_locked(child_labels, std::move(buckets));
}

template <metric_kind T>
T& family<T>::add_locked(const labels& child_labels, [[maybe_unused]] std::vector<double> buckets) {
  assert(is_allowed_child_labels(spec_, T::type, child_labels) && "invalid or clashing label");
  const std::lock_guard lock{mutex_};
  auto found = children_.find(child_labels);
  if (found != children_.end()) {
    return *found->second;
  }
  std::unique_ptr<T> child;
  if constexpr (std::same_as<T, histogram>) {
    child = std::make_unique<T>(std::move(buckets));
  } else {
    child = std::make_unique<T>();
  }
  return *children_.emplace(child_labels, std::move(child)).first->second;
}

template <metric_kind T>
bool family<T>::has(const labels& child_labels) const {
  const std::lock_guard lock{mutex_};
  return children_.contains(child_labels);
}

template <metric_kind T>
void family<T>::remove(const labels& child_labels) {
  const std::lock_guard lock{mutex_};
  children_.erase(child_labels);
}

template <metric_kind T>
void family<T>::collect_into(metric_family& out) const {
  const std::lock_guard lock{mutex_};
  out.metrics.reserve(out.metrics.size() + children_.size());
  for (const auto& [child_labels, child] : children_) {
    metric_sample sample;
    sample.label_pairs = merge_labels(spec_, child_labels);
    fill_sample(sample, *child);
    out.metrics.push_back(std::move(sample));
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

// ---- registry -----------------------------------------------------------------------------------

registry::registry() = default;

registry::~registry() = default;

template <metric_kind T>
family<T>& registry::add(family_spec spec) {
  assert(is_valid_metric_name(spec.name) && "invalid metric name");
  assert(has_valid_names(spec.constant_labels) && "invalid constant label name");
  assert((T::type != metric_type::counter || spec.name.ends_with(counter_suffix))
         && "counter names must end in _total");
  const std::lock_guard lock{mutex_};
  auto found = families_.find(spec.name);
  if (found == families_.end()) {
    auto created = std::make_unique<family<T>>(std::move(spec));
    auto& result = *created;
    families_.emplace(result.name(), std::move(created));
    return result;
  }
  auto& existing = *found->second;
  assert(existing.type() == T::type && "metric name registered with another type");
  assert(existing.spec().constant_labels == spec.constant_labels
         && "metric name registered with other constant labels");
  if (existing.type() != T::type) {
    // Only reachable with asserts off: hand out a working family that is never exported.
    auto orphan = std::make_unique<family<T>>(std::move(spec));
    auto& result = *orphan;
    orphans_.push_back(std::move(orphan));
    return result;
  }
  return static_cast<family<T>&>(existing);
}

template family<counter>& registry::add<counter>(family_spec);
template family<gauge>& registry::add<gauge>(family_spec);
template family<histogram>& registry::add<histogram>(family_spec);

std::vector<metric_family> registry::collect() const {
  const std::lock_guard lock{mutex_};
  std::vector<metric_family> result;
  result.reserve(families_.size());
  for (const auto& [name, source] : families_) {
    metric_family snapshot{name, source->spec().help, source->type(), {}};
    source->collect_into(snapshot);
    if (!snapshot.metrics.empty()) {
      result.push_back(std::move(snapshot));
    }
  }
  return result;
}

} // namespace cxp::metrics
