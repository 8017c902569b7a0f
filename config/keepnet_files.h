// The input files of `scimsync keepnet onboard` (docs/keepnet.md): the new
// company's fields, the Direct Email Creation (DEC) setting, and the [source]
// section to copy into the config it writes. Parsed with toml++ and checked
// completely before any request is sent; errors read "<file>:<line>: <key>:
// <message>" like config_loader.h, the lowest line first.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace scimsync {

// --- --new-company FILE.toml ---------------------------------------------------
// Top-level keys named as Keepnet's POST /api/companies form fields (its
// multipart field names, so the reseller can copy them from Keepnet's pages).
enum class CompanyFieldKind { kText, kInt, kBool, kDateTime, kTextArray };
struct CompanyFieldSpec {
  std::string_view name;
  CompanyFieldKind kind;
  bool required;
  int max_length;  // characters, 0 = no limit (kText only)
};
// The fields, required ones first, in the order they are sent.
const std::vector<CompanyFieldSpec>& CompanyFields();

struct KeepnetCompanyFile {
  std::string name;  // the Name field
  // Form fields in CompanyFields() order: booleans "true"/"false", integers in
  // decimal, dates as written (a TOML date-time is rendered ISO 8601), arrays as
  // one field per element under the same name.
  std::vector<std::pair<std::string, std::string>> fields;
};
Result<KeepnetCompanyFile> LoadKeepnetCompany(const std::string& path);
Result<KeepnetCompanyFile> ParseKeepnetCompany(const std::string& text, const std::string& name);

// --- --dec FILE.toml -------------------------------------------------------------
//   name = "M365 DEC"                  required
//   tenant_id = "..."                  required: the Microsoft 365 / Google tenant
//   domains = ["acme.example"]         required, at least one: allowedDomains
//   type = "microsoft365"              required: "microsoft365" (1) or "google" (2),
//                                      or the number itself
//   test_address = "it@acme.example"   required: where the test mail goes
struct KeepnetDecFile {
  std::string name;
  std::string tenant_id;
  std::vector<std::string> domains;
  int type = 0;  // 1 Microsoft 365, 2 Google Workspace
  std::string test_address;
};
Result<KeepnetDecFile> LoadKeepnetDec(const std::string& path);
Result<KeepnetDecFile> ParseKeepnetDec(const std::string& text, const std::string& name);

// --- --source FILE.toml ----------------------------------------------------------
// A piece of scimsync config: top-level keys and tables other than [target], which
// the onboarding writes itself. [source] is required. Returns the text unchanged
// (comments kept) after checking that it parses and names no [target].
Result<std::string> LoadSourceSection(const std::string& path);
Result<std::string> CheckSourceSection(const std::string& text, const std::string& name);

}  // namespace scimsync
