// Keepnet's envelope and data parsing, and the request bodies' exact text.
#include "connectors/keepnet/keepnet_json.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

TEST_CASE("ParseEnvelope: status, message, validationMessages and data") {
  KeepnetEnvelope e = ParseEnvelope(
      R"({"status":"SUCCESS","message":null,"validationMessages":null,"data":{"resourceId":"xC5kfGz7w2Nz"}})");
  CHECK(e.valid);
  CHECK(e.status == "SUCCESS");
  CHECK(e.message.empty());
  CHECK(e.validation_messages.empty());
  CHECK(e.data == R"({"resourceId":"xC5kfGz7w2Nz"})");
  CHECK_FALSE(EnvelopeSaysFailure(e));
  CHECK(EnvelopeText(e).empty());
}

TEST_CASE("ParseEnvelope: validation messages as strings, objects, or a field dictionary") {
  KeepnetEnvelope a = ParseEnvelope(
      R"({"status":"ERROR","message":"Validation failed","validationMessages":["Name is required","Name is required"]})");
  CHECK(a.validation_messages.size() == 2);
  CHECK(EnvelopeSaysFailure(a));
  CHECK(EnvelopeText(a) == "Validation failed; Name is required; Name is required");

  KeepnetEnvelope b = ParseEnvelope(
      R"({"Message":"Invalid","ValidationMessages":[{"propertyName":"Type","errorMessage":"must be 1 or 2"},{"message":"bad"},{}]})");
  CHECK(EnvelopeText(b) == "Invalid; Type: must be 1 or 2; bad");

  KeepnetEnvelope c = ParseEnvelope(R"({"validationMessages":{"Name":["too long","reserved"],"Url":"bad"}})");
  CHECK(EnvelopeText(c) == "Name: too long; Name: reserved; Url: bad");
  // A message repeated as the only validation message is said once.
  KeepnetEnvelope d = ParseEnvelope(R"({"message":"Forbidden","validationMessages":["Forbidden"]})");
  CHECK(EnvelopeText(d) == "Forbidden");
}

TEST_CASE("EnvelopeText: one bounded line, whatever the server sent") {
  KeepnetEnvelope e;
  e.message = "bad\nok    company: created \"X\"\r\t";
  CHECK(EnvelopeText(e) == "bad ok    company: created \"X\"  ");
  e.message = std::string(299, 'a') + "\xc3\xa9" + "tail";  // a 2-byte character across the cut
  CHECK(EnvelopeText(e) == std::string(299, 'a') + "...");
  e.message = "m";
  for (int i = 0; i < 13; ++i) e.validation_messages.push_back("v" + std::to_string(i));
  CHECK(EnvelopeText(e) == "m; v0; v1; v2; v3; v4; v5; v6; v7; v8; v9; (3 more)");
}

TEST_CASE("ParseEnvelope: bodies that are no envelope say why, never what they held") {
  struct Row {
    std::string body;
    std::string error;
  };
  const Row rows[] = {
      {"", "empty body"},
      {"  \r\n", "empty body"},
      {"<html>Bearer abc</html>", "not JSON (Invalid value. at byte 0)"},
      {"[1,2]", "not a JSON object"},
      {std::string(65, '[') + std::string(65, ']'), "response body nests deeper than 64 levels"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.body);
    KeepnetEnvelope e = ParseEnvelope(r.body);
    CHECK_FALSE(e.valid);
    CHECK(e.error == r.error);
  }
  // 64 levels are fine; brackets inside strings do not count.
  std::string ok = R"({"data":)" + std::string(63, '[') + std::string(63, ']') + R"(,"message":"[[[[{{{{"})";
  CHECK(ParseEnvelope(ok).valid);
}

TEST_CASE("EnvelopeSaysFailure: the failure words, any case; anything else is not one") {
  for (const char* s : {"error", "ERROR", "Fail", "failed", "FAILURE", "unsuccessful"}) {
    KeepnetEnvelope e;
    e.status = s;
    CHECK(EnvelopeSaysFailure(e));
  }
  for (const char* s : {"", "SUCCESS", "ok", "200"}) {
    KeepnetEnvelope e;
    e.status = s;
    CHECK_FALSE(EnvelopeSaysFailure(e));
  }
}

TEST_CASE("ParseTokenResponse: a grant, an OAuth2 error, a string expires_in") {
  TokenGrant g = ParseTokenResponse(
      R"({"access_token":"eyJabc","expires_in":3600,"token_type":"Bearer","scope":"api1","permissions":["x|GET"]})");
  CHECK(g.access_token == "eyJabc");
  CHECK(g.expires_in == 3600);
  CHECK(g.error.empty());
  TokenGrant e = ParseTokenResponse(R"({"error":"invalid_client","error_description":"no such client"})");
  CHECK(e.access_token.empty());
  CHECK(e.error == "invalid_client");
  CHECK(e.error_description == "no such client");
  CHECK(ParseTokenResponse(R"({"access_token":"t","expires_in":"120"})").expires_in == 120);
  CHECK(ParseTokenResponse(R"({"access_token":"t","expires_in":-5})").expires_in == 0);
  CHECK(ParseTokenResponse("not json").access_token.empty());
}

TEST_CASE("DataResourceId: the documented member, its alternatives, or data itself") {
  CHECK(DataResourceId(R"({"resourceId":"A1"})") == "A1");
  CHECK(DataResourceId(R"({"ResourceID":"A2"})") == "A2");
  CHECK(DataResourceId(R"({"companyResourceId":"A3","id":"no"})") == "A3");
  CHECK(DataResourceId(R"({"id":42})") == "42");
  CHECK(DataResourceId(R"("A4")") == "A4");
  CHECK(DataResourceId(R"({"resourceId":null,"id":"A5"})") == "A5");
  CHECK(DataResourceId(R"({"name":"x"})").empty());
  CHECK(DataResourceId("").empty());
}

TEST_CASE("ParseCompanyPage: results (documented), items, or a bare array") {
  CompanyPage p = ParseCompanyPage(
      R"({"results":[{"resourceId":"xC5kfGz7w2Nz","name":"Acme"},7,{"companyName":"B","id":"b1"}],"totalNumberOfPages":3})");
  CHECK(p.valid);
  REQUIRE(p.items.size() == 2);
  CHECK(p.items[0].resource_id == "xC5kfGz7w2Nz");
  CHECK(p.items[0].name == "Acme");
  CHECK(p.items[1].resource_id == "b1");
  CHECK(p.items[1].name == "B");
  CHECK(p.total_pages == 3);
  CHECK(ParseCompanyPage(R"({"items":[{"resourceId":"a","name":"A"}]})").items.size() == 1);
  CHECK(ParseCompanyPage(R"([{"resourceId":"a","name":"A"}])").items.size() == 1);
  CHECK(ParseCompanyPage(R"({"results":[]})").valid);
  CHECK_FALSE(ParseCompanyPage(R"({"results":"none"})").valid);
  CHECK_FALSE(ParseCompanyPage("").valid);
}

TEST_CASE("ParseScimSetting: token and baseUrl under either spelling") {
  ScimSetting s = ParseScimSetting(R"({"resourceId":"s1","name":"scimsync","token":"T","baseUrl":"https://x/scim/v2"})");
  CHECK(s.resource_id == "s1");
  CHECK(s.token == "T");
  CHECK(s.base_url == "https://x/scim/v2");
  ScimSetting t = ParseScimSetting(R"({"id":"s2","scimToken":"T2","baseURL":"https://y"})");
  CHECK(t.resource_id == "s2");
  CHECK(t.token == "T2");
  CHECK(t.base_url == "https://y");
  CHECK(ParseScimSetting(R"({"scimBaseUrl":"https://z","bearerToken":"T3"})").base_url == "https://z");
  // The documented name wins over an alternative.
  CHECK(ParseScimSetting(R"({"url":"https://other","baseUrl":"https://doc"})").base_url == "https://doc");
  ScimSetting none = ParseScimSetting(R"({"resourceId":"s3"})");
  CHECK(none.token.empty());
  CHECK(none.base_url.empty());
}

TEST_CASE("ParseScimFields and DecTestPassed") {
  auto f = ParseScimFields(R"([{"resourceId":"f1","name":"Department"},{"id":"f2","fieldName":"Cost"},"Title"])");
  REQUIRE(f.size() == 3);
  CHECK(f[0].resource_id == "f1");
  CHECK(f[0].name == "Department");
  CHECK(f[1].resource_id == "f2");
  CHECK(f[1].name == "Cost");
  CHECK(f[2].name == "Title");
  CHECK(ParseScimFields(R"({"results":[{"resourceId":"f1","name":"A"}]})").size() == 1);

  CHECK(DecTestPassed(""));
  CHECK(DecTestPassed("true"));
  CHECK(DecTestPassed(R"({"isSuccess":true})"));
  CHECK_FALSE(DecTestPassed("false"));
  CHECK_FALSE(DecTestPassed(R"({"isSuccess":false})"));
  CHECK_FALSE(DecTestPassed(R"({"Success":false})"));
  CHECK(DecTestPassed(R"({"message":"sent"})"));
}

TEST_CASE("request bodies: exact text") {
  CHECK(CompanySearchJson(2, 50) ==
        R"({"pageNumber":2,"pageSize":50,"orderBy":"CreateTime","ascending":false,"isTargetUserCountExceededLimit":false})");
  CHECK(ScimSettingJson("scimsync", "", {}) == R"({"name":"scimsync"})");
  CHECK(ScimSettingJson("a\"b", "g1", {{"f1", "title"}, {"f2", "urn:x:department"}}) ==
        R"({"name":"a\"b","groupResourceId":"g1","fieldMappings":[{"fieldResourceId":"f1","scimAttribute":"title"},{"fieldResourceId":"f2","scimAttribute":"urn:x:department"}]})");
  CHECK(DecJson("M365", "t-1", {"a.example", "b.example"}, 1) ==
        R"({"name":"M365","tenantId":"t-1","allowedDomains":["a.example","b.example"],"type":1})");
  CHECK(DecTestJson("d1", "it@a.example") == R"({"resourceId":"d1","sendTestEmailTo":"it@a.example"})");
}

TEST_CASE("KeepnetFieldNames: every field has names, none twice") {
  for (const FieldNames& f : KeepnetFieldNames()) {
    CAPTURE(f.field);
    REQUIRE_FALSE(f.names.empty());
    for (std::size_t i = 0; i < f.names.size(); ++i) {
      for (std::size_t j = i + 1; j < f.names.size(); ++j) CHECK(f.names[i] != f.names[j]);
    }
  }
}

}  // namespace
}  // namespace scimsync
