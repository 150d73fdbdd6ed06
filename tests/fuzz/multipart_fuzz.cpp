// `multipart/form-data` bodies (`/v1/images/edits` and the other upload routes): the first line
// of the input is the request's Content-Type, the rest its body. Parsed with
// edge/routes/v1/multipart.cpp, then read as an image edit (edge/routes/v1/images.cpp) and
// sent upstream, as the route does, and rebuilt.

#include "edge/routes/v1/images.hpp"
#include "edge/routes/v1/multipart.hpp"
#include "edge/routes/v1/responses_request.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace v1 = cxp::edge::v1;
  const auto [content_type, body] = cxp::fuzz::split_at(cxp::fuzz::text_of(data, size), "\n");
  cxp::fuzz::keep(v1::multipart_boundary(content_type));
  auto parts = v1::parse_multipart(content_type, body);
  if (!parts) {
    return 0;
  }
  for (const auto& part : *parts) {
    cxp::fuzz::keep(part.name.size() + part.filename.size() + part.content_type.size()
                    + part.data.size());
  }
  cxp::fuzz::keep(v1::find_part(*parts, "image"));
  v1::image_options options;
  std::vector<std::string> images;
  bool has_mask = false;
  if (!v1::image_edit_options(*parts, options, images, has_mask)) {
    // As edge/routes/v1/v1_turns.cpp sends it upstream.
    v1::normalized_request normalized;
    const auto request = v1::image_responses_request(options, "gpt-5.5", images, has_mask);
    if (!v1::normalize_responses_request(request, normalized)) {
      cxp::fuzz::keep(normalized.body.dump());
    }
  }
  const auto rebuilt = v1::build_multipart(*parts, "cxp-fuzz-boundary");
  cxp::fuzz::keep(
    v1::parse_multipart("multipart/form-data; boundary=cxp-fuzz-boundary", rebuilt).has_value());
  return 0;
}
