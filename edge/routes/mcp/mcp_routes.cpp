#include "edge/routes/mcp/mcp_routes.hpp"

#include <boost/beast/http/field.hpp>

#include "domain/mcp/mcp_token_service.hpp"
#include "edge/errors/error_table.hpp"
#include "edge/routes/mcp/mcp_protocol.hpp"
#include "edge/server/actor_bridge.hpp"

namespace cxp::edge {

namespace {

using nlohmann::json;

constexpr auto settings_timeout = std::chrono::seconds{5};
constexpr auto mcp_db_timeout = std::chrono::seconds{30};
constexpr const char* allowed_methods = "POST, OPTIONS";
constexpr const char* server_version = CXP_VERSION; // the project version, from CMake

std::string header_of(const exchange& ex, http::field name) {
  auto it = ex.request().find(name);
  return it == ex.request().end() ? std::string{} : std::string{it->value()};
}

std::string header_of(const exchange& ex, std::string_view name) {
  auto it = ex.request().find(boost::beast::string_view{name.data(), name.size()});
  return it == ex.request().end() ? std::string{} : std::string{it->value()};
}

std::string bearer_of(const exchange& ex) {
  const auto value = header_of(ex, http::field::authorization);
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size()
      || !std::equal(scheme.begin(), scheme.end(), value.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a))
                  == std::tolower(static_cast<unsigned char>(b));
         })) {
    return {};
  }
  return value.substr(scheme.size());
}

void respond_body(const exchange_ptr& ex, http::status status, const json& body, bool as_sse) {
  http_response response{status, ex->request().version()};
  response.set(http::field::cache_control, "no-store");
  const auto text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  if (as_sse) {
    response.set(http::field::content_type, "text/event-stream");
    response.body() = "event: message\ndata: " + text + "\n\n";
  } else {
    response.set(http::field::content_type, "application/json");
    response.body() = text;
  }
  if (status == http::status::unauthorized) {
    response.set(http::field::www_authenticate, "Bearer realm=\"codex-pooler-mcp\"");
  }
  ex->respond(std::move(response));
}

void respond_refusal(const exchange_ptr& ex, const mcp_refusal& refusal, bool as_sse = false) {
  respond_body(ex, lookup_error(refusal.code).status, render_mcp_refusal(refusal), as_sse);
}

/// A refusal for `error` (authentication gates, overload, database trouble): the status and
/// stable code from the error table, a JSON-RPC server error.
void respond_failure(const exchange_ptr& ex, const mcp_message& message, const caf::error& error) {
  const auto code = to_errc(error);
  const int rpc_code =
    code == errc::internal_error || code == errc::database_unavailable || code == errc::timeout
      ? jsonrpc::internal_error
      : jsonrpc::server_error;
  respond_refusal(ex,
                  {code, rpc_code, std::string{lookup_error(code).message},
                   message.expects_answer ? message.id : json()},
                  message.answer_as_sse);
}

void respond_no_content(const exchange_ptr& ex) {
  http_response response{http::status::no_content, ex->request().version()};
  response.set(http::field::allow, allowed_methods);
  ex->respond(std::move(response));
}

void respond_not_allowed(const exchange_ptr& ex) {
  http_response response{http::status::method_not_allowed, ex->request().version()};
  response.set(http::field::allow, allowed_methods);
  response.set(http::field::content_type, "application/json");
  response.body() = render_mcp_refusal({errc::method_not_allowed, jsonrpc::server_error,
                                        "Method not allowed: /mcp takes POST (stateless, no "
                                        "server-initiated stream)"})
                      .dump();
  ex->respond(std::move(response));
}

void answer(const mcp_runtime& runtime, const exchange_ptr& ex, mcp_message message,
            const actors::settings_snapshot& settings, admission_ticket ticket) {
  const bool instance_enabled = settings->sections().mcp.enabled;
  run_db<json>(
    runtime.system, runtime.db_pool, mcp_db_timeout,
    [&services = runtime.services, message, instance_enabled, token = bearer_of(*ex),
     client_ip = ex->client_ip()](persistence::database&) -> caf::expected<json> {
      auto who = domain::mcp_token_service{services}.authenticate(token, instance_enabled);
      if (!who) {
        return who.error();
      }
      who->client_ip = client_ip;
      if (!message.expects_answer) {
        return json(); // a notification or a client's response: accepted, nothing to say
      }
      return answer_mcp(services, *who, message, server_version);
    },
    [ex, message, ticket = std::move(ticket)](caf::expected<json> reply) {
      if (!reply) {
        return respond_failure(ex, message, reply.error());
      }
      if (reply->is_null()) {
        http_response accepted{http::status::accepted, ex->request().version()};
        return ex->respond(std::move(accepted));
      }
      respond_body(ex, http::status::ok, *reply, message.answer_as_sse);
    });
}

void handle_post(const mcp_runtime& runtime, const exchange_ptr& ex) {
  auto checked = check_mcp_request({header_of(*ex, http::field::origin),
                                    header_of(*ex, http::field::content_type),
                                    header_of(*ex, http::field::accept),
                                    header_of(*ex, "mcp-protocol-version"), ex->request().body()});
  if (auto* refusal = std::get_if<mcp_refusal>(&checked)) {
    return respond_refusal(ex, *refusal);
  }
  auto message = std::get<mcp_message>(std::move(checked));
  if (bearer_of(*ex).empty()) {
    return respond_failure(ex, message, make_error(errc::mcp_token_required));
  }
  ask<actors::settings_snapshot>(
    runtime.system, runtime.settings, settings_timeout,
    [&runtime, ex,
     message = std::move(message)](caf::expected<actors::settings_snapshot> settings) {
      if (!settings) {
        return respond_failure(ex, message, make_error(errc::service_unavailable));
      }
      runtime.admission->configure(*settings);
      auto* home = ex->home();
      if (home == nullptr) {
        return respond_failure(ex, message, make_error(errc::internal_error));
      }
      boost::asio::post(*home, [&runtime, ex, message, settings = *settings, home] {
        runtime.admission->admit(
          domain::admission_class::mcp, home->get_executor(),
          [&runtime, ex, message, settings](caf::expected<admission_ticket> ticket) {
            if (!ticket) {
              return respond_failure(ex, message, ticket.error());
            }
            answer(runtime, ex, message, settings, std::move(*ticket));
          });
      });
    },
    actors::get_atom::value);
}

} // namespace

void add_mcp_routes(route_table& routes, const mcp_runtime& runtime) {
  routes.add(http::verb::post, "/mcp",
             [&runtime](const exchange_ptr& ex) { handle_post(runtime, ex); });
  for (auto method : {http::verb::get, http::verb::delete_}) {
    routes.add(method, "/mcp", respond_not_allowed);
  }
  routes.add(http::verb::options, "/mcp", respond_no_content);
}

} // namespace cxp::edge
