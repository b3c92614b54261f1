#include "objectstore/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "orgtrail/common/str_cat.h"

namespace orgtrail::objectstore {
namespace {

struct DocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;

constexpr size_t kMaxXmlBytes = 64u << 20;

StatusOr<DocPtr> ParseDocument(std::string_view xml, std::string_view what) {
  if (xml.empty()) return absl::InvalidArgumentError(StrCat(what, ": empty XML document"));
  if (xml.size() > kMaxXmlBytes) {
    return absl::InvalidArgumentError(StrCat(what, ": XML document of ", xml.size(), " bytes"));
  }
  DocPtr doc(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "s3.xml", nullptr,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (doc == nullptr) {
    const xmlError* err = xmlGetLastError();
    return absl::InvalidArgumentError(StrCat(
        what, ": not well-formed XML", err != nullptr && err->message != nullptr ? ": " : "",
        err != nullptr && err->message != nullptr ? err->message : ""));
  }
  return doc;
}

bool NameIs(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, BAD_CAST name) == 0;
}

std::string Text(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return out;
}

}  // namespace

void InitXmlParser() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

StatusOr<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  auto doc = ParseDocument(xml, "ListObjectsV2 answer");
  if (!doc.ok()) return doc.status();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || !NameIs(root, "ListBucketResult")) {
    return absl::DataLossError("ListObjectsV2 answer: root element is not <ListBucketResult>");
  }
  ListObjectsPage page;
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (NameIs(n, "IsTruncated")) {
      const std::string v = Text(n);
      if (v != "true" && v != "false") {
        return absl::DataLossError(StrCat("ListObjectsV2 answer: <IsTruncated> is '", v, "'"));
      }
      page.is_truncated = v == "true";
    } else if (NameIs(n, "NextContinuationToken")) {
      page.next_continuation_token = Text(n);
    } else if (NameIs(n, "Contents")) {
      ObjectSummary object;
      bool has_key = false;
      for (const xmlNode* c = n->children; c != nullptr; c = c->next) {
        if (NameIs(c, "Key")) {
          object.key = Text(c);
          has_key = true;
        } else if (NameIs(c, "Size")) {
          const std::string v = Text(c);
          if (!absl::SimpleAtoi(v, &object.size)) {
            return absl::DataLossError(StrCat("ListObjectsV2 answer: <Size> is '", v, "'"));
          }
        } else if (NameIs(c, "ETag")) {
          object.etag = Text(c);
        } else if (NameIs(c, "LastModified")) {
          object.last_modified = Text(c);
        }
      }
      if (!has_key) return absl::DataLossError("ListObjectsV2 answer: <Contents> without <Key>");
      page.objects.push_back(std::move(object));
    }
  }
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return absl::DataLossError(
        "ListObjectsV2 answer: <IsTruncated>true</IsTruncated> without <NextContinuationToken>");
  }
  return page;
}

StatusOr<S3ErrorDocument> ParseErrorDocument(std::string_view xml) {
  auto doc = ParseDocument(xml, "S3 error answer");
  if (!doc.ok()) return doc.status();
  const xmlNode* root = xmlDocGetRootElement(doc->get());
  if (root == nullptr || !NameIs(root, "Error")) {
    return absl::InvalidArgumentError("S3 error answer: root element is not <Error>");
  }
  S3ErrorDocument error;
  for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
    if (NameIs(n, "Code")) error.code = Text(n);
    else if (NameIs(n, "Message")) error.message = Text(n);
    else if (NameIs(n, "RequestId")) error.request_id = Text(n);
  }
  if (error.code.empty()) return absl::InvalidArgumentError("S3 error answer: no <Code>");
  return error;
}

}  // namespace orgtrail::objectstore
