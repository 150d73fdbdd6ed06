#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "actors/pricing/pricing_download.hpp"
#include "common/clock.hpp"
#include "domain/pricing/pricing_feed.hpp"
#include "domain/pricing/pricing_import.hpp"
#include "persistence/migrate/migrator.hpp"
#include "persistence/pricing/pricing_repository.hpp"
#include "tests/support/test_database.hpp"

using namespace cxp;
using json = nlohmann::json;
using domain::pricing_import_outcome;

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// A fresh database with every migration applied (PostgreSQL clones come from a template that
/// may predate the newest migrations) and no pricing snapshot (the template's `migrate` may have
/// imported the built-in one).
struct pricing_db {
  explicit pricing_db(test::backend kind) : database(kind) {
    system_clock_source clock;
    REQUIRE(persistence::run_migrations(database.db(), persistence::embedded_migrations(), clock));
    REQUIRE(database.db().run([](soci::session& sql) {
      sql << "DELETE FROM pricing_model_prices";
      sql << "DELETE FROM pricing_snapshots";
    }));
  }
  persistence::database& db() { return database.db(); }
  test::test_database database;
};

/// The built-in feed with its `generated_at` replaced, and gpt-5.5's standard input price.
std::string feed_version(const std::string& generated_at, double gpt55_input = 5.0) {
  auto feed = json::parse(domain::builtin_pricing_feed());
  feed["generated_at"] = generated_at;
  feed["models"]["gpt-5.5"]["prices"]["standard"]["default"]["input"] = gpt55_input;
  return feed.dump();
}

/// The one HTTP client, as the job worker has it (TLS verified; these tests speak plain HTTP).
actors::upstream_client_options feed_client_options() {
  actors::upstream_client_options options;
  options.io_threads = 1;
  return options;
}

int64_t count_rows(persistence::database& db, const std::string& table) {
  auto counted = db.run([&](soci::session& sql) {
    long long n = 0;
    sql << "SELECT COUNT(*) FROM " + table, soci::into(n);
    return static_cast<int64_t>(n);
  });
  REQUIRE(counted);
  return *counted;
}

/// An HTTP server on 127.0.0.1 answering each GET target with what the test set for it (404
/// otherwise), one connection at a time, on its own thread.
class feed_server {
public:
  struct answer {
    unsigned status = 200;
    std::string body;
    std::string location;
  };

  feed_server() : acceptor_(io_, {net::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~feed_server() {
    io_.stop();
    thread_.join();
  }

  void set(const std::string& target, answer reply) {
    std::lock_guard lock{mutex_};
    answers_[target] = std::move(reply);
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + target;
  }
  int requests() const {
    std::lock_guard lock{mutex_};
    return requests_;
  }

private:
  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        return;
      }
      serve(socket);
      accept();
    });
  }

  void serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    beast::error_code ec;
    http::read(socket, buffer, request, ec);
    if (ec) {
      return;
    }
    answer reply{404, "not found", ""};
    {
      std::lock_guard lock{mutex_};
      ++requests_;
      if (auto it = answers_.find(std::string{request.target()}); it != answers_.end()) {
        reply = it->second;
      }
    }
    http::response<http::string_body> response{static_cast<http::status>(reply.status),
                                               request.version()};
    response.set(http::field::content_type, "application/json");
    if (!reply.location.empty()) {
      response.set(http::field::location, reply.location);
    }
    response.body() = reply.body;
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, answer> answers_;
  int requests_ = 0;
};

} // namespace

TEST_CASE("a pricing feed is stored once per version and an invalid one changes nothing",
          "[integration][pricing]") {
  const auto kind = GENERATE(test::backend::postgres, test::backend::sqlite);
  INFO(test::to_string(kind));
  pricing_db d{kind};
  manual_clock clock;
  persistence::pricing_repository snapshots{d.db()};

  auto first = domain::import_builtin_pricing(d.db(), clock);
  REQUIRE(first.outcome == pricing_import_outcome::imported);
  CHECK(first.price_version == "2026-08-21T21:41:01.660811Z");
  CHECK(first.model_count == 46);
  CHECK(count_rows(d.db(), "pricing_model_prices") == 187);
  auto stored = snapshots.find_by_version(first.price_version);
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->id == first.snapshot_id);
  CHECK((*stored)->source_url == "builtin:domain/pricing/openai-pricing.json");
  CHECK((*stored)->imported_at == to_iso8601(clock.now()));
  auto prices = snapshots.prices_of(first.snapshot_id);
  REQUIRE(prices);
  auto gpt55 = std::find_if(prices->begin(), prices->end(), [](const auto& row) {
    return row.model == "gpt-5.5" && row.service_tier == "standard"
           && row.price_bucket == "long_context";
  });
  REQUIRE(gpt55 != prices->end());
  CHECK(gpt55->input == 10'000'000);
  CHECK(gpt55->cached_input == 1'000'000);
  CHECK(gpt55->output == 45'000'000);
  CHECK(gpt55->reasoning == 45'000'000);

  auto again = domain::import_builtin_pricing(d.db(), clock);
  CHECK(again.outcome == pricing_import_outcome::unchanged);
  CHECK(again.snapshot_id == first.snapshot_id);
  CHECK(count_rows(d.db(), "pricing_snapshots") == 1);

  auto broken = json::parse(domain::builtin_pricing_feed());
  broken["generated_at"] = "2026-09-01T00:00:00Z";
  broken["models"]["gpt-5.5"]["prices"]["standard"]["default"]["output"] = "thirty";
  auto refused = domain::import_pricing_feed(d.db(), broken.dump(), "https://feed.test/p.json");
  CHECK(refused.outcome == pricing_import_outcome::rejected);
  CHECK(refused.reason.find("model \"gpt-5.5\": prices.standard.default.output") == 0);
  CHECK(refused.snapshot_id.empty());
  CHECK(count_rows(d.db(), "pricing_snapshots") == 1);
  CHECK(count_rows(d.db(), "pricing_model_prices") == 187);

  // A newer feed is in force once imported; an older one imported later does not displace it.
  clock.advance(std::chrono::hours{1});
  auto newer = domain::import_pricing_feed(d.db(), feed_version("2026-09-01T00:00:00Z", 6.0),
                                           "https://feed.test/p.json?token=secret", clock);
  REQUIRE(newer.outcome == pricing_import_outcome::imported);
  auto older = domain::import_pricing_feed(d.db(), feed_version("2026-07-01T00:00:00Z", 4.0),
                                           "https://feed.test/p.json", clock);
  REQUIRE(older.outcome == pricing_import_outcome::imported);
  auto current = snapshots.current();
  REQUIRE(current);
  REQUIRE(*current);
  CHECK((*current)->id == newer.snapshot_id);
  CHECK((*current)->source_url == "https://feed.test/p.json"); // the query may hold credentials

  auto book = domain::current_price_book(d.db());
  REQUIRE(book);
  CHECK((*book)->snapshot_id() == newer.snapshot_id);
  CHECK((*book)
          ->find("gpt-5.5", domain::service_tier::standard, domain::price_bucket::default_bucket)
          ->rates.input
        == 6'000'000);
  // Held while still in force; replaced once a newer snapshot is imported.
  auto held = domain::current_price_book(d.db(), *book);
  REQUIRE(held);
  CHECK(held->get() == book->get());
  auto newest = domain::import_pricing_feed(d.db(), feed_version("2026-10-01T00:00:00Z", 7.0),
                                            "https://feed.test/p.json", clock);
  REQUIRE(newest.outcome == pricing_import_outcome::imported);
  auto reloaded = domain::current_price_book(d.db(), *book);
  REQUIRE(reloaded);
  CHECK((*reloaded)->snapshot_id() == newest.snapshot_id);
}

TEST_CASE("a pricing feed is downloaded over HTTP and imported, and a refused one is explained",
          "[integration][pricing]") {
  pricing_db d{test::backend::postgres};
  feed_server server;
  const auto valid = feed_version("2026-09-15T08:00:00Z", 5.5);
  server.set("/pricing.json", {200, valid, ""});
  server.set("/moved", {302, "", "/pricing.json"});
  server.set("/moved-absolute", {301, "", server.url("/pricing.json")});
  server.set("/broken.json", {200, R"({"generated_at":"2026-09-16T00:00:00Z","models":{}})", ""});
  server.set("/not-json", {200, "<html>maintenance</html>", ""});
  server.set("/gone", {404, "no", ""});
  server.set("/loop", {302, "", "/loop"});
  actors::upstream_client client{feed_client_options()};

  auto imported = actors::import_pricing_from_url(d.db(), client, server.url("/pricing.json"));
  REQUIRE(imported.outcome == pricing_import_outcome::imported);
  CHECK(imported.price_version == "2026-09-15T08:00:00Z");
  auto stored = persistence::pricing_repository{d.db()}.find_by_version("2026-09-15T08:00:00Z");
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK((*stored)->id == imported.snapshot_id);
  CHECK((*stored)->source_url == server.url("/pricing.json"));

  auto redirected = actors::import_pricing_from_url(d.db(), client, server.url("/moved"));
  CHECK(redirected.outcome == pricing_import_outcome::unchanged);
  CHECK(redirected.snapshot_id == imported.snapshot_id);
  auto absolute = actors::import_pricing_from_url(d.db(), client, server.url("/moved-absolute"));
  CHECK(absolute.outcome == pricing_import_outcome::unchanged);

  const auto snapshots_before = count_rows(d.db(), "pricing_snapshots");
  const auto prices_before = count_rows(d.db(), "pricing_model_prices");
  auto refused = actors::import_pricing_from_url(d.db(), client, server.url("/broken.json"));
  CHECK(refused.outcome == pricing_import_outcome::rejected);
  CHECK(refused.reason == "models is missing, not an object or empty");
  CHECK(domain::to_json(refused)
        == json{{"outcome", "rejected"}, {"reason", "models is missing, not an object or empty"}});
  auto garbage = actors::import_pricing_from_url(d.db(), client, server.url("/not-json"));
  CHECK(garbage.outcome == pricing_import_outcome::rejected);
  CHECK(garbage.reason.find("not JSON") != std::string::npos);

  auto missing = actors::import_pricing_from_url(d.db(), client, server.url("/gone"));
  CHECK(missing.outcome == pricing_import_outcome::failed);
  CHECK(missing.reason == "download failed: the feed URL answered HTTP 404");
  auto looping = actors::import_pricing_from_url(d.db(), client, server.url("/loop"));
  CHECK(looping.outcome == pricing_import_outcome::failed);
  CHECK(looping.reason.find("redirects") != std::string::npos);
  actors::pricing_fetch_limits tiny;
  tiny.max_bytes = 1024;
  auto oversized =
    actors::import_pricing_from_url(d.db(), client, server.url("/pricing.json"), tiny);
  CHECK(oversized.outcome == pricing_import_outcome::failed);
  CHECK(oversized.reason.find("larger than 1024 bytes") != std::string::npos);
  // The cap is the call's, not the client's.
  auto whole = actors::import_pricing_from_url(d.db(), client, server.url("/pricing.json"));
  CHECK(whole.outcome == pricing_import_outcome::unchanged);
  auto nowhere = actors::import_pricing_from_url(d.db(), client, "ftp://127.0.0.1/pricing.json");
  CHECK(nowhere.outcome == pricing_import_outcome::failed);
  CHECK(nowhere.reason == "download failed: not an absolute http or https URL");

  CHECK(count_rows(d.db(), "pricing_snapshots") == snapshots_before);
  CHECK(count_rows(d.db(), "pricing_model_prices") == prices_before);
  CHECK(server.requests() >= 11);
}

TEST_CASE("a pricing download gives up at its deadline", "[integration][pricing]") {
  pricing_db d{test::backend::sqlite};
  // A listener that accepts nothing: the connection completes in the kernel, no answer comes.
  net::io_context io;
  tcp::acceptor silent{io, {net::ip::make_address("127.0.0.1"), 0}};
  actors::pricing_fetch_limits quick;
  quick.timeout = std::chrono::milliseconds{300};
  actors::upstream_client client{feed_client_options()};
  const auto started = std::chrono::steady_clock::now();
  auto result = actors::import_pricing_from_url(
    d.db(), client,
    "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/p.json", quick);
  CHECK(result.outcome == pricing_import_outcome::failed);
  CHECK(result.reason.find("timed out") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds{5});
  CHECK(count_rows(d.db(), "pricing_snapshots") == 0);
}
