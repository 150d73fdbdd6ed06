#include "cluster/node/node_actor.hpp"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/db/db_worker.hpp"
#include "actors/notices/node_notices.hpp"
#include "actors/stream/stream_messages.hpp"
#include "actors/type_ids.hpp"
#include "cluster/envelope/cluster_envelope.hpp"
#include "cluster/node/forwarding.hpp"
#include "common/log.hpp"
#include "persistence/cluster/session_lease_repository.hpp"

namespace cxp::cluster {

namespace {

constexpr auto db_timeout = std::chrono::seconds{10};

using lease_lookup = caf::expected<std::optional<persistence::session_lease_row>>;

using open_promise = caf::typed_response_promise<actors::stream_opened>;

/// What this node holds for one local stream: every key of its session under one token, and
/// the account the stream serves (recorded in each key's lease).
struct stream_leases {
  std::vector<std::string> keys;
  std::string token;
  std::string account_id;
};

struct node_state {
  node_options options;
  std::unordered_map<std::string, peer_node_actor> peers; ///< node id → node actor
  std::unordered_map<caf::actor_addr, std::string> peer_ids;
  /// Lease key → the local stream whose session holds it (under that stream's token).
  std::unordered_map<std::string, caf::actor_addr> leases;
  std::unordered_map<caf::actor_addr, stream_leases> lease_of_stream;
  bool draining = false;
  static inline const char* name = "node_actor";
};

/// The node actor as it addresses itself: `tick_atom` renews its leases; `local_atom,
/// stream_open` opens a session on this node only (a peer's `remote_open`).
using node_impl = node_actor::extend<
  caf::reacts_to<actors::tick_atom>,
  caf::replies_to<actors::local_atom, actors::stream_open>::with<actors::stream_opened>>;

using node_self = caf::stateful_actor<node_state, node_impl::base>;

bool is_live(const persistence::session_lease_row& lease) {
  return lease.expires_at > to_iso8601(std::chrono::system_clock::now());
}

/// Opens the session on this node's registry under a lease this node now holds.
void open_local(node_self* self, actors::stream_open open, std::string token,
                open_promise promise) {
  auto keys = open.aliases;
  self->request(self->state.options.local_registry, db_timeout, std::move(open))
    .then(
      [self, keys, token, promise](actors::stream_opened& opened) mutable {
        auto& held = self->state.lease_of_stream[opened.stream.address()];
        held.token = token;
        for (const auto& key : keys) {
          self->state.leases[key] = opened.stream.address();
          held.keys.push_back(key);
        }
        self->monitor(opened.stream);
        promise.deliver(std::move(opened));
      },
      [promise](caf::error& error) mutable { promise.deliver(std::move(error)); });
}

/// Acquires the lease of `key` for this node, then opens locally.
void acquire_and_open(node_self* self, actors::stream_open open, open_promise promise) {
  if (self->state.draining) {
    promise.deliver(make_error(errc::service_unavailable, "node is draining"));
    return;
  }
  const auto node_id = self->state.options.node_id;
  const auto ttl = self->state.options.lease_ttl;
  actors::ask_db(self, self->state.options.db_pool, db_timeout,
                 [keys = open.aliases, node_id, ttl](persistence::database& db) {
                   persistence::session_lease_repository leases{db};
                   return leases.acquire(keys.front(), node_id, std::nullopt,
                                         std::chrono::system_clock::now(), ttl, keys);
                 })
    .then([self, open = std::move(open), promise](lease_lookup& acquired) mutable {
      if (!acquired) {
        promise.deliver(std::move(acquired.error()));
        return;
      }
      if (!acquired->has_value()) {
        promise.deliver(
          make_error(errc::owner_unavailable, "another node acquired the session lease"));
        return;
      }
      // A session taken over from a dead owner continues on the account its lease names.
      open.account_id = (*acquired)->account_id.value_or("");
      open_local(self, std::move(open), (*acquired)->lease_token, promise);
    });
}

/// Attaches a local proxy to the owner's stream through `owner` (a remote node actor).
void open_remote(node_self* self, const peer_node_actor& owner, actors::stream_open open,
                 open_promise promise) {
  auto proxy = spawn_stream_proxy(self->system(), self, open.aliases);
  self
    ->request(owner, self->state.options.remote_timeout,
              seal(self->system(), remote_open{std::move(open.aliases)}, 0, proxy))
    .then(
      [self, proxy, promise](cluster_envelope& reply) mutable {
        auto opened = unseal<remote_opened>(self->system(), reply);
        auto relay = peer_of<remote_opened>(reply);
        if (!opened || !relay) {
          self->send_exit(proxy, caf::exit_reason::user_shutdown);
          promise.deliver(opened ? make_error(errc::owner_unavailable, "owner sent no relay")
                                 : opened.error());
          return;
        }
        self->send(proxy, actors::relay_atom::value, std::move(relay));
        promise.deliver(actors::stream_opened{proxy, opened->existing});
      },
      [self, proxy, promise](caf::error& error) mutable {
        self->send_exit(proxy, caf::exit_reason::user_shutdown);
        log::warn("cluster", "owner node did not open the session",
                  {{"error", self->system().render(error)}});
        promise.deliver(to_errc(error) == errc::cluster_protocol_mismatch
                          ? std::move(error)
                          : make_error(errc::owner_unavailable, self->system().render(error)));
      });
}

/// Deletes the leases of (key, token) pairs this node held.
void release_keys(node_self* self, std::vector<std::pair<std::string, std::string>> released) {
  actors::db_write(self, self->state.options.db_pool, "release session lease",
                   [released](persistence::database& db) -> caf::expected<void> {
                     persistence::session_lease_repository leases{db};
                     for (const auto& [key, token] : released) {
                       if (auto done = leases.release(key, token); !done) {
                         return std::move(done.error());
                       }
                     }
                     return {};
                   });
}

/// Leases `alias.alias`, a key the stream learned after its session opened (a response id), under
/// the session's token, so a client that comes back naming only that key finds the owner. The
/// key counts as this node's at once: a peer may see the row before the database answers here,
/// and its forwarded open must find the session, not lease it again under a new token.
void lease_alias(node_self* self, const actors::stream_alias& alias) {
  const auto stream = alias.stream.address();
  auto it = self->state.lease_of_stream.find(stream);
  if (it == self->state.lease_of_stream.end() || self->state.leases.count(alias.alias) != 0) {
    return;
  }
  auto& held = it->second;
  self->state.leases[alias.alias] = stream;
  held.keys.push_back(alias.alias);
  // Another node holding the key live (or a failed write) takes it back out of the session.
  auto forget = [self, key = alias.alias, stream] {
    if (auto lease = self->state.leases.find(key);
        lease != self->state.leases.end() && lease->second == stream) {
      self->state.leases.erase(lease);
    }
    if (auto owner = self->state.lease_of_stream.find(stream);
        owner != self->state.lease_of_stream.end()) {
      auto& keys = owner->second.keys;
      keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
    }
  };
  actors::ask_db(self, self->state.options.db_pool, db_timeout,
                 [key = alias.alias, node_id = self->state.options.node_id, token = held.token,
                  account = held.account_id.empty() ? std::nullopt : std::optional{held.account_id},
                  ttl = self->state.options.lease_ttl](persistence::database& db) {
                   return persistence::session_lease_repository{db}.add_key(
                     key, node_id, token, account, std::chrono::system_clock::now(), ttl);
                 })
    .then(
      [self, key = alias.alias, stream, token = held.token, forget](caf::expected<bool>& added) {
        if (!added || !*added) {
          return forget();
        }
        auto owner = self->state.lease_of_stream.find(stream);
        if (owner == self->state.lease_of_stream.end() || owner->second.token != token) {
          // The stream ended (its leases released, perhaps before this row was written).
          release_keys(self, {{key, token}});
          forget();
        }
      },
      [forget](caf::error& error) {
        log::warn("cluster", "session alias lease failed", {{"error", caf::to_string(error)}});
        forget();
      });
}

/// The edge's `stream_open`: local owner, remote owner, or a new lease.
/// `allow_remote` is false for a peer's request: a node never forwards a forwarded open again
/// (no proxy chains, no loops between two nodes that disagree about the owner).
caf::result<actors::stream_opened> open_session(node_self* self, actors::stream_open open,
                                                bool allow_remote) {
  auto promise = self->make_response_promise<actors::stream_opened>();
  const bool owned = std::any_of(open.aliases.begin(), open.aliases.end(), [self](const auto& key) {
    return self->state.leases.count(key) != 0;
  });
  if (open.aliases.empty() || owned) {
    auto aliases = open.aliases;
    self->request(self->state.options.local_registry, db_timeout, std::move(open))
      .then(
        [self, aliases, promise](actors::stream_opened& opened) mutable {
          // A reconnect may name the session by keys it did not have yet (a new turn state).
          for (const auto& alias : aliases) {
            lease_alias(self, actors::stream_alias{alias, opened.stream});
          }
          promise.deliver(opened);
        },
        [promise](caf::error& error) mutable { promise.deliver(std::move(error)); });
    return promise;
  }
  // The live lease of another node under any of the session's keys names the owner.
  actors::ask_db(self, self->state.options.db_pool, db_timeout,
                 [keys = open.aliases,
                  me = self->state.options.node_id](persistence::database& db) -> lease_lookup {
                   persistence::session_lease_repository leases{db};
                   for (const auto& key : keys) {
                     auto found = leases.find(key);
                     if (!found) {
                       return std::move(found.error());
                     }
                     if (*found && (*found)->owner_node_id != me && is_live(**found)) {
                       return std::move(*found);
                     }
                   }
                   return std::nullopt;
                 })
    .then([self, open = std::move(open), promise, allow_remote](lease_lookup& found) mutable {
      if (!found) {
        promise.deliver(std::move(found.error()));
        return;
      }
      if (const auto& lease = *found) {
        auto peer = self->state.peers.find(lease->owner_node_id);
        if (!allow_remote || peer == self->state.peers.end()) {
          promise.deliver(make_error(errc::owner_unavailable,
                                     "session owner " + lease->owner_node_id
                                       + " is not connected until " + lease->expires_at));
          return;
        }
        open_remote(self, peer->second, std::move(open), promise);
        return;
      }
      acquire_and_open(self, std::move(open), promise);
    });
  return promise;
}

/// A peer's `remote_open`: serve it from this node's stream through a relay.
caf::result<cluster_envelope> serve_remote_open(node_self* self, cluster_envelope& envelope) {
  auto open = unseal<remote_open>(self->system(), envelope);
  if (!open) {
    return std::move(open.error());
  }
  auto proxy = peer_of<remote_open>(envelope);
  if (!proxy || open->aliases.empty()) {
    return make_error(errc::invalid_request, "remote_open without proxy or aliases");
  }
  auto promise = self->make_response_promise<cluster_envelope>();
  // The requester saw this node's live lease; open_session re-checks it and opens locally.
  self
    ->request(node_impl{self}, db_timeout, actors::local_atom::value,
              actors::stream_open{std::move(open->aliases), {}})
    .then(
      [self, proxy, promise](actors::stream_opened& opened) mutable {
        auto relay = spawn_stream_relay(self->system(), opened.stream, proxy);
        promise.deliver(seal(self->system(), remote_opened{0, opened.existing}, 0, relay));
      },
      [promise](caf::error& error) mutable { promise.deliver(std::move(error)); });
  return promise;
}

void renew_leases(node_self* self) {
  if (self->state.leases.empty()) {
    return;
  }
  const auto node_id = self->state.options.node_id;
  const auto ttl = self->state.options.lease_ttl;
  using held_leases = caf::expected<std::vector<std::pair<std::string, std::string>>>;
  actors::ask_db(self, self->state.options.db_pool, db_timeout,
                 [node_id, ttl](persistence::database& db) {
                   return persistence::session_lease_repository{db}.renew_owned(
                     node_id, std::chrono::system_clock::now(), ttl);
                 })
    .then([self](held_leases& held) {
      if (!held) {
        log::warn("cluster", "session lease renewal failed", {{"error", context_of(held.error())}});
        return;
      }
      std::unordered_map<std::string, std::string> still_ours(held->begin(), held->end());
      for (auto it = self->state.leases.begin(); it != self->state.leases.end();) {
        auto found = still_ours.find(it->first);
        auto stream = self->state.lease_of_stream.find(it->second);
        if (found == still_ours.end() || stream == self->state.lease_of_stream.end()
            || found->second != stream->second.token) {
          // Taken over (or never won, for a secondary key): not ours to renew or release.
          log::debug("cluster", "session lease key lost");
          it = self->state.leases.erase(it);
        } else {
          ++it;
        }
      }
    });
}

/// The (key, token) pairs of `held` that `stream` still holds (a key can move on to a newer
/// stream of the same session, which then holds it under its own token).
std::vector<std::pair<std::string, std::string>>
held_keys(node_self* self, const caf::actor_addr& stream, const stream_leases& held) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& key : held.keys) {
    if (auto lease = self->state.leases.find(key);
        lease != self->state.leases.end() && lease->second == stream) {
      pairs.emplace_back(key, held.token);
    }
  }
  return pairs;
}

/// Records in the stream's session leases the account it serves the session on, so a node that
/// takes the session over continues there.
void pin_account(node_self* self, const actors::stream_account& account) {
  auto it = self->state.lease_of_stream.find(account.stream.address());
  if (it == self->state.lease_of_stream.end()) {
    return;
  }
  it->second.account_id = account.account_id;
  actors::db_write(self, self->state.options.db_pool, "pin session account",
                   [held = held_keys(self, it->first, it->second),
                    account_id = account.account_id](persistence::database& db) {
                     persistence::session_lease_repository leases{db};
                     for (const auto& [key, token] : held) {
                       if (auto pinned = leases.pin_account(key, token, account_id); !pinned) {
                         return caf::expected<void>{pinned.error()};
                       }
                     }
                     return caf::expected<void>{};
                   });
}

void release_lease_of(node_self* self, const caf::actor_addr& stream) {
  auto it = self->state.lease_of_stream.find(stream);
  if (it == self->state.lease_of_stream.end()) {
    return;
  }
  auto released = held_keys(self, stream, it->second);
  for (const auto& [key, token] : released) {
    self->state.leases.erase(key);
  }
  self->state.lease_of_stream.erase(it);
  release_keys(self, std::move(released));
}

/// Sends this node's `notice` to every connected peer (fire and forget: a peer that misses it
/// still catches up on its next poll of the database).
template <class Notice>
void broadcast(node_self* self, const Notice& notice) {
  for (const auto& [id, peer] : self->state.peers) {
    caf::anon_send(peer, actors::notice_atom::value, seal(self->system(), notice, 0, self));
  }
}

void reload_settings(node_self* self) {
  if (self->state.options.settings) {
    self->send(self->state.options.settings, actors::reload_atom::value);
  }
}

/// A peer's broadcast notice, applied on this node.
void receive_notice(node_self* self, const cluster_envelope& envelope) {
  if (envelope.kind == envelope_kind<actors::api_key_changed>::value) {
    if (auto changed = unseal<actors::api_key_changed>(self->system(), envelope)) {
      changed->from_peer = true;
      actors::announce(self->system(), std::move(*changed));
      return;
    }
  } else if (envelope.kind == envelope_kind<actors::settings_changed>::value) {
    if (unseal<actors::settings_changed>(self->system(), envelope)) {
      reload_settings(self);
      return;
    }
  } else if (envelope.kind == envelope_kind<actors::account_tokens_changed>::value) {
    if (auto changed = unseal<actors::account_tokens_changed>(self->system(), envelope)) {
      changed->from_peer = true;
      actors::announce(self->system(), std::move(*changed));
      return;
    }
  }
  log::warn("cluster", "peer notice not understood",
            {{"kind", envelope.kind}, {"version", envelope.version}});
}

void add_peer(node_self* self, const std::string& id, const peer_node_actor& peer) {
  if (id == self->state.options.node_id || !peer) {
    return;
  }
  auto [it, inserted] = self->state.peers.insert_or_assign(id, peer);
  static_cast<void>(it);
  self->state.peer_ids[peer.address()] = id;
  self->monitor(peer);
  if (inserted) {
    log::info("cluster", "peer connected", {{"peer", id}});
  }
}

node_impl::behavior_type node_behavior(node_self* self, node_options options) {
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& down) {
    if (auto peer = self->state.peer_ids.find(down.source); peer != self->state.peer_ids.end()) {
      log::info("cluster", "peer disconnected", {{"peer", peer->second}});
      auto it = self->state.peers.find(peer->second);
      if (it != self->state.peers.end() && it->second.address() == down.source) {
        self->state.peers.erase(it);
      }
      self->state.peer_ids.erase(peer);
      return;
    }
    release_lease_of(self, down.source);
  });
  self->delayed_send(self, self->state.options.lease_renewal, actors::tick_atom::value);
  self->send(self->state.options.local_registry, actors::put_atom::value,
             actors::stream_watcher_actor{self});
  actors::subscribe_to<actors::api_key_changed>(self);
  actors::subscribe_to<actors::settings_changed>(self);
  actors::subscribe_to<actors::account_tokens_changed>(self);
  return {
    [self](actors::stream_open& open) { return open_session(self, std::move(open), true); },
    [self](actors::local_atom, actors::stream_open& open) {
      return open_session(self, std::move(open), false);
    },
    [self](const actors::stream_alias& alias) { lease_alias(self, alias); },
    [self](actors::stream_account& account) { pin_account(self, account); },
    [self](cluster_envelope& envelope) -> caf::result<cluster_envelope> {
      if (envelope.kind == envelope_kind<node_hello>::value) {
        auto hello = unseal<node_hello>(self->system(), envelope);
        if (!hello) {
          return std::move(hello.error());
        }
        add_peer(self, hello->node_id, peer_of<node_hello>(envelope));
        return seal(self->system(),
                    node_hello{self->state.options.node_id, cluster_protocol_version}, 0, self);
      }
      if (envelope.kind == envelope_kind<remote_open>::value) {
        return serve_remote_open(self, envelope);
      }
      return make_error(errc::cluster_protocol_mismatch, "unknown envelope kind " + envelope.kind);
    },
    [self](actors::notice_atom, const cluster_envelope& envelope) {
      receive_notice(self, envelope);
    },
    [self](const actors::api_key_changed& changed) {
      if (!changed.from_peer) {
        broadcast(self, changed);
      }
    },
    [self](const actors::settings_changed& changed) {
      if (!changed.from_peer) {
        reload_settings(self);
        broadcast(self, changed);
      }
    },
    [self](const actors::account_tokens_changed& changed) {
      if (!changed.from_peer) {
        broadcast(self, changed);
      }
    },
    [self](actors::peer_up_atom, peer_node_actor& peer) {
      self
        ->request(peer, self->state.options.remote_timeout,
                  seal(self->system(),
                       node_hello{self->state.options.node_id, cluster_protocol_version}, 0, self))
        .then(
          [self, peer](cluster_envelope& reply) {
            auto hello = unseal<node_hello>(self->system(), reply);
            if (!hello) {
              log::warn("cluster", "peer refused", {{"detail", context_of(hello.error())}});
              return;
            }
            add_peer(self, hello->node_id, peer);
          },
          [self](caf::error& error) {
            log::warn("cluster", "peer hello failed", {{"error", self->system().render(error)}});
          });
    },
    [self](actors::tick_atom) {
      self->delayed_send(self, self->state.options.lease_renewal, actors::tick_atom::value);
      renew_leases(self);
    },
    [self](actors::drain_atom drain) {
      self->state.draining = true;
      return self->delegate(self->state.options.local_registry, drain);
    },
    [self](actors::hand_off_atom) -> caf::result<int64_t> {
      auto promise = self->make_response_promise<int64_t>();
      const auto node_id = self->state.options.node_id;
      self->state.leases.clear();
      self->state.lease_of_stream.clear();
      actors::ask_db(self, self->state.options.db_pool, db_timeout,
                     [node_id](persistence::database& db) {
                       return persistence::session_lease_repository{db}.hand_off_all(
                         node_id, std::chrono::system_clock::now());
                     })
        .then([promise](caf::expected<int64_t>& released) mutable {
          promise.deliver(released ? *released : int64_t{0});
        });
      return promise;
    },
  };
}

} // namespace

node_actor spawn_node_actor(caf::actor_system& system, node_options options) {
  return system.spawn(node_behavior, std::move(options));
}

} // namespace cxp::cluster
