// Inter-node envelopes (cluster/envelope/cluster_envelope.hpp). The first byte picks the mode:
// below 0x80 the rest is a whole `cluster_envelope` as CAF's binary format carries it between
// nodes, decoded and then unsealed by its kind as the node actor and forwarding do; otherwise
// the rest is the payload of an envelope of the current version whose kind the byte picks
// (0x80 + its index below),
// unsealed (and, when whole, sealed and unsealed again).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/deep_to_string.hpp>

#include "cluster/envelope/cluster_envelope.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace cluster = cxp::cluster;
namespace actors = cxp::actors;

caf::actor_system& fuzz_system() {
  // Never destroyed: one system serves every input of the run.
  static auto* config = [] {
    auto* cfg = new caf::actor_system_config;
    cfg->set("scheduler.max-threads", 1);
    return cfg;
  }();
  static auto* system = new caf::actor_system{*config};
  return *system;
}

template <class T>
bool try_unseal(caf::actor_system& system, const cluster::cluster_envelope& envelope) {
  if (envelope.kind != cluster::envelope_kind<T>::value) {
    return false;
  }
  auto body = cluster::unseal<T>(system, envelope);
  if (!body) {
    cxp::fuzz::keep(body.error().code());
    return true;
  }
  cxp::fuzz::keep(caf::deep_to_string(*body));
  auto again = cluster::unseal<T>(system, cluster::seal(system, *body, envelope.route));
  cxp::fuzz::require(static_cast<bool>(again), "a sealed body unseals");
  return true;
}

template <class... Ts>
void unseal_by_kind(caf::actor_system& system, const cluster::cluster_envelope& envelope) {
  static_cast<void>((try_unseal<Ts>(system, envelope) || ...));
}

void dispatch(caf::actor_system& system, const cluster::cluster_envelope& envelope) {
  unseal_by_kind<cluster::node_hello, cluster::remote_open, cluster::remote_opened,
                 cluster::remote_attach, actors::api_key_changed, actors::settings_changed,
                 actors::account_tokens_changed, actors::stream_turn, actors::stream_forward,
                 actors::stream_ack, actors::stream_detach, actors::stream_frame,
                 actors::stream_turn_done, actors::stream_closed>(system, envelope);
}

constexpr const char* kinds[] = {
  cluster::envelope_kind<cluster::node_hello>::value,
  cluster::envelope_kind<cluster::remote_open>::value,
  cluster::envelope_kind<cluster::remote_opened>::value,
  cluster::envelope_kind<cluster::remote_attach>::value,
  cluster::envelope_kind<actors::api_key_changed>::value,
  cluster::envelope_kind<actors::settings_changed>::value,
  cluster::envelope_kind<actors::account_tokens_changed>::value,
  cluster::envelope_kind<actors::stream_turn>::value,
  cluster::envelope_kind<actors::stream_forward>::value,
  cluster::envelope_kind<actors::stream_ack>::value,
  cluster::envelope_kind<actors::stream_detach>::value,
  cluster::envelope_kind<actors::stream_frame>::value,
  cluster::envelope_kind<actors::stream_turn_done>::value,
  cluster::envelope_kind<actors::stream_closed>::value,
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  auto& system = fuzz_system();
  cluster::cluster_envelope envelope;
  if (data[0] < 0x80) {
    caf::binary_deserializer source{system, reinterpret_cast<const char*>(data + 1), size - 1};
    if (auto err = source(envelope)) {
      cxp::fuzz::keep(err.code());
      return 0;
    }
  } else {
    envelope.kind = kinds[(data[0] - 0x80) % std::size(kinds)];
    envelope.payload.assign(data + 1, data + size);
  }
  dispatch(system, envelope);
  return 0;
}
