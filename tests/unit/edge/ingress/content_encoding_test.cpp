#include "edge/ingress/content_encoding.hpp"

#include <catch2/catch.hpp>

#include <zlib.h>

using namespace cxp;
using namespace cxp::edge;

namespace {

/// `data` compressed with zlib's `window_bits` (31: gzip, 15: zlib, -15: raw deflate).
std::string compress(const std::string& data, int window_bits) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

} // namespace

TEST_CASE("gzip and deflate bodies decode; identity passes unchanged", "[ingress]") {
  const std::string json = R"({"model":"gpt-5.5","input":"hi"})";
  for (const auto& [encoding, bits] : std::vector<std::pair<std::string, int>>{
         {"gzip", 31}, {"x-gzip", 31}, {"deflate", 15}, {"deflate", -15}, {" GZIP ", 31}}) {
    CAPTURE(encoding, bits);
    auto body = compress(json, bits);
    CHECK_FALSE(decode_body(body, encoding, 1 << 20));
    CHECK(body == json);
  }
  auto plain = json;
  CHECK_FALSE(decode_body(plain, "identity", 1 << 20));
  CHECK(plain == json);
}

TEST_CASE("bombs, truncation and unknown encodings are refused and the body kept", "[ingress]") {
  auto bomb = compress(std::string(10u << 20, 'a'), 31);
  const auto original = bomb;
  CHECK(decode_body(bomb, "gzip", 64u << 20) == errc::payload_too_large);
  CHECK(bomb == original);

  auto large = compress(std::string(200'000, 'a') + "0123456789", 31);
  CHECK(decode_body(large, "gzip", 1'000) == errc::payload_too_large);

  auto truncated = compress(R"({"model":"gpt-5.5"})", 31);
  truncated.resize(truncated.size() / 2);
  CHECK(decode_body(truncated, "gzip", 1 << 20) == errc::invalid_request);

  std::string garbage = "not compressed at all";
  CHECK(decode_body(garbage, "gzip", 1 << 20) == errc::invalid_request);
  CHECK(decode_body(garbage, "br", 1 << 20) == errc::unsupported_content_encoding);
  CHECK_FALSE(is_accepted_encoding("br"));
  CHECK(is_accepted_encoding("deflate"));
}
