#include "edge/routes/health_routes.hpp"

#include <atomic>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>

#include "actors/type_ids.hpp"
#include "common/metrics/text_serializer.hpp"
#include "edge/server/actor_bridge.hpp"
#include "persistence/crypto/key_hash.hpp"

namespace cxp::edge {

namespace {

constexpr auto liveness_timeout = std::chrono::milliseconds{2'000};
constexpr auto readiness_timeout = std::chrono::milliseconds{1'000};
constexpr auto settings_timeout = std::chrono::milliseconds{2'000};

void respond_status(const exchange_ptr& ex, http::status status, std::string_view text) {
  ex->respond_json(status, {{"status", text}});
}

} // namespace

void add_health_routes(route_table& routes, const health_context& context) {
  routes.add(http::verb::get, "/healthz", [context](const exchange_ptr& ex) {
    // The deadline runs on Asio, not on the actors it judges: when they are wedged the timer
    // still fires and answers.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto deadline =
      std::make_shared<boost::asio::steady_timer>(context.io->local_or_next(), liveness_timeout);
    deadline->async_wait([ex, answered, deadline](const boost::system::error_code& ec) {
      if (!ec && !answered->exchange(true)) {
        respond_status(ex, http::status::service_unavailable, "actors_unresponsive");
      }
    });
    ask<actors::settings_snapshot>(
      context.system, context.settings, liveness_timeout,
      [ex, answered, deadline](caf::expected<actors::settings_snapshot> snapshot) {
        if (answered->exchange(true)) {
          return;
        }
        boost::asio::post(deadline->get_executor(), [deadline] { deadline->cancel(); });
        if (!snapshot) {
          return respond_status(ex, http::status::service_unavailable, "actors_unresponsive");
        }
        respond_status(ex, http::status::ok, "ok");
      },
      actors::get_atom::value);
  });

  routes.add(http::verb::get, "/readyz", [context](const exchange_ptr& ex) {
    if (context.state.draining) {
      return respond_status(ex, http::status::service_unavailable, "unavailable");
    }
    run_db<bool>(
      context.system, context.db_pool, readiness_timeout,
      [](persistence::database& db) -> caf::expected<bool> {
        auto pinged = db.ping();
        if (!pinged) {
          return pinged.error();
        }
        return true;
      },
      [ex, context](caf::expected<bool> ready) {
        if (!ready) {
          return respond_status(ex, http::status::service_unavailable, "unavailable");
        }
        ask<actors::custody_status>(
          context.system, context.custodian, readiness_timeout,
          [ex](caf::expected<actors::custody_status> custody) {
            nlohmann::json body{{"status", "ready"}};
            if (custody) {
              // Traffic is still served without an owner (until tokens expire), so the node
              // stays ready; the detail, the metric and an error log say what is wrong.
              body["account_custody"] = {{"status", custody->alarm ? "no_owner_node"
                                                    : !custody->settled || custody->owner_nodes == 0
                                                      ? "starting"
                                                      : "ok"},
                                         {"owner_nodes", custody->owner_nodes},
                                         {"owned_here", custody->owned},
                                         {"accounts", custody->accounts},
                                         {"may_own", custody->may_own}};
            }
            ex->respond_json(http::status::ok, body);
          },
          actors::get_atom::value);
      });
  });

  // Read from the server at scrape time: the sessions keep the set, not a counter of their own.
  auto& websockets_open = metrics::build_gauge()
                            .name("codex_pooler_gateway_websocket_connections")
                            .help("Client websocket connections open on this node")
                            .register_(context.registry)
                            .add({});
  routes.add(http::verb::get, "/metrics", [context, &websockets_open](const exchange_ptr& ex) {
    websockets_open.set(static_cast<double>(context.state.websockets.size()));
    std::string authorization{ex->request()[http::field::authorization]};
    ask<actors::settings_snapshot>(
      context.system, context.settings, settings_timeout,
      [ex, context, authorization = std::move(authorization)](
        caf::expected<actors::settings_snapshot> settings) {
        if (!settings) {
          return ex->respond_error(errc::service_unavailable);
        }
        if (auto digest = (*settings)->sections().metrics.bearer_token_digest) {
          constexpr std::string_view bearer = "Bearer ";
          const bool presented = authorization.rfind(bearer, 0) == 0;
          const auto token = presented ? authorization.substr(bearer.size()) : std::string{};
          if (!presented
              || !persistence::constant_time_equals(
                persistence::hmac_sha256(context.token_hash_key, token), *digest)) {
            return ex->respond_error(errc::unauthenticated,
                                     "A valid metrics bearer token is required.");
          }
        }
        http_response response{http::status::ok, ex->request().version()};
        response.set(http::field::content_type, std::string{metrics::text_content_type});
        response.body() = metrics::serialize_text(context.registry.collect());
        ex->respond(std::move(response));
      },
      actors::get_atom::value);
  });
}

} // namespace cxp::edge
