#include "actors/stream/detached_socket_cap.hpp"

#include <algorithm>
#include <iterator>

namespace cxp::actors {

namespace {

size_t count_in(const std::unordered_map<std::string, size_t>& counts, const std::string& name) {
  const auto it = counts.find(name);
  return it == counts.end() ? 0 : it->second;
}

void decrement(std::unordered_map<std::string, size_t>& counts, const std::string& name) {
  const auto it = counts.find(name);
  if (it != counts.end() && --it->second == 0) {
    counts.erase(it);
  }
}

} // namespace

std::string_view to_string(detached_cap cap) {
  return cap == detached_cap::api_key ? "api_key" : "account";
}

std::vector<detached_socket_cap::eviction> detached_socket_cap::park(uint64_t stream,
                                                                     const std::string& api_key_id,
                                                                     const std::string& account_id,
                                                                     limits caps) {
  unpark(stream);
  order_.push_back(entry{stream, api_key_id, account_id});
  by_stream_[stream] = std::prev(order_.end());
  ++per_key_[api_key_id];
  ++per_account_[account_id];
  std::vector<eviction> out;
  trim(&entry::api_key_id, api_key_id, caps.per_key, detached_cap::api_key, out);
  trim(&entry::account_id, account_id, caps.per_account, detached_cap::account, out);
  return out;
}

void detached_socket_cap::unpark(uint64_t stream) {
  if (auto it = by_stream_.find(stream); it != by_stream_.end()) {
    erase(it->second);
  }
}

size_t detached_socket_cap::count_for_key(const std::string& api_key_id) const {
  return count_in(per_key_, api_key_id);
}

size_t detached_socket_cap::count_for_account(const std::string& account_id) const {
  return count_in(per_account_, account_id);
}

void detached_socket_cap::erase(std::list<entry>::iterator it) {
  decrement(per_key_, it->api_key_id);
  decrement(per_account_, it->account_id);
  by_stream_.erase(it->stream);
  order_.erase(it);
}

void detached_socket_cap::trim(std::string entry::*field, const std::string& value, int64_t limit,
                               detached_cap cap, std::vector<eviction>& out) {
  const auto& counts = field == &entry::api_key_id ? per_key_ : per_account_;
  const auto bound = static_cast<size_t>(std::max<int64_t>(limit, 0));
  for (auto it = order_.begin(); it != order_.end() && count_in(counts, value) > bound;) {
    auto next = std::next(it);
    if ((*it).*field == value) {
      out.push_back(eviction{it->stream, cap});
      erase(it);
    }
    it = next;
  }
}

} // namespace cxp::actors
