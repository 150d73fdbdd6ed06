#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

namespace cxp::actors {

// Atoms name the verbs of our typed interfaces (CAF 0.17: at most 10 characters).
using get_atom = caf::atom_constant<caf::atom("get")>;
using put_atom = caf::atom_constant<caf::atom("put")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using checkout_atom = caf::atom_constant<caf::atom("checkout")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using ownership_atom = caf::atom_constant<caf::atom("ownership")>;
using generation_atom = caf::atom_constant<caf::atom("generation")>;
using evidence_atom = caf::atom_constant<caf::atom("evidence")>;
using hand_off_atom = caf::atom_constant<caf::atom("handoff")>;

/// Announces every message type that may cross a node boundary. CAF 0.17 has no type-ID blocks;
/// `add_message_type` is its equivalent and this is the one place it is called.
void add_message_types(caf::actor_system_config& config);

} // namespace cxp::actors
