// http_load: a plain HTTP load generator over libcurl's multi interface, used by
// bench/sync_bench.sh as the yardstick for scimsync's first-sync throughput
// (DESIGN §12). It sends the same request mix a first sync sends — one POST /Users
// per user, one POST /Groups per group, then membership PATCHes of 100 members —
// over the same number of keep-alive connections, with no planning, no state and
// no response handling beyond reading the id.
//
//   http_load URL TOKEN USERS GROUPS CONNECTIONS
//
// Prints: requests=<n> seconds=<s> rps=<r>
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

namespace {

struct Req {
  std::string method, path, body;
  int group = -1;  // POST /Groups: index of the group whose id we need
};

struct Slot {
  CURL* easy = nullptr;
  std::string response;
  curl_slist* headers = nullptr;
  Req req;
};

size_t Collect(char* p, size_t size, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, size * n);
  return size * n;
}

std::string IdOf(const std::string& body) {
  auto k = body.find("\"id\"");
  if (k == std::string::npos) return "";
  auto q1 = body.find('"', body.find(':', k) + 1);
  auto q2 = body.find('"', q1 + 1);
  return body.substr(q1 + 1, q2 - q1 - 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: http_load URL TOKEN USERS GROUPS CONNECTIONS\n");
    return 2;
  }
  std::string base = argv[1];
  if (!base.empty() && base.back() == '/') base.pop_back();
  std::string auth = std::string("Authorization: Bearer ") + argv[2];
  int users = std::atoi(argv[3]), groups = std::atoi(argv[4]), conns = std::atoi(argv[5]);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(conns));

  std::deque<Req> queue;
  for (int i = 0; i < users; ++i) {
    char body[768];
    std::snprintf(body, sizeof body,
                  "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\","
                  "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"],"
                  "\"externalId\":\"load-%d\",\"userName\":\"load%d@example.com\","
                  "\"name\":{\"givenName\":\"Load\",\"familyName\":\"User %d\"},"
                  "\"displayName\":\"Load User %d\",\"emails\":[{\"value\":\"load%d@example.com\","
                  "\"type\":\"work\",\"primary\":true}],\"title\":\"Engineer\",\"active\":true,"
                  "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
                  "{\"department\":\"Dept %d\"}}",
                  i, i, i, i, i, i % 50);
    queue.push_back({"POST", "/Users", body, -1});
  }
  std::vector<std::string> user_ids;
  user_ids.reserve(static_cast<size_t>(users));
  std::vector<std::string> group_ids(static_cast<size_t>(groups));
  bool groups_queued = false, members_queued = false;
  int groups_done = 0;

  std::vector<Slot> slots(static_cast<size_t>(conns));
  std::vector<Slot*> idle;
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    idle.push_back(&s);
  }
  long sent = 0, errors = 0;
  int running = 0;
  auto start = std::chrono::steady_clock::now();

  auto launch = [&](Slot* s, Req r) {
    s->req = std::move(r);
    s->response.clear();
    curl_easy_reset(s->easy);
    std::string url = base + s->req.path;
    curl_easy_setopt(s->easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, s->req.method.c_str());
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->req.body.c_str());
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(s->req.body.size()));
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->response);
    if (s->headers) curl_slist_free_all(s->headers);
    s->headers = curl_slist_append(nullptr, auth.c_str());
    s->headers = curl_slist_append(s->headers, "Content-Type: application/scim+json");
    s->headers = curl_slist_append(s->headers, "Accept: application/scim+json");
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_multi_add_handle(multi, s->easy);
    ++sent;
  };

  for (;;) {
    // Phases as in a sync: users, then groups, then memberships.
    if (queue.empty() && idle.size() == slots.size()) {
      if (!groups_queued) {
        groups_queued = true;
        for (int g = 0; g < groups; ++g) {
          queue.push_back({"POST", "/Groups",
                           "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
                           "\"displayName\":\"Load Group " + std::to_string(g) +
                               "\",\"externalId\":\"load-group-" + std::to_string(g) + "\"}",
                           g});
        }
      } else if (!members_queued) {
        members_queued = true;
        // Each user in one group; groups of users/groups members, in chunks of 100.
        for (int g = 0; g < groups; ++g) {
          std::vector<std::string> members;
          for (size_t u = static_cast<size_t>(g); u < user_ids.size();
               u += static_cast<size_t>(groups)) {
            members.push_back(user_ids[u]);
          }
          for (size_t i = 0; i < members.size(); i += 100) {
            std::string body =
                "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],"
                "\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[";
            for (size_t j = i; j < members.size() && j < i + 100; ++j) {
              if (j > i) body += ",";
              body += "{\"value\":\"" + members[j] + "\"}";
            }
            body += "]}]}";
            queue.push_back({"PATCH", "/Groups/" + group_ids[static_cast<size_t>(g)], body, -1});
          }
        }
      } else {
        break;
      }
      if (queue.empty()) continue;
    }
    while (!idle.empty() && !queue.empty()) {
      Slot* s = idle.back();
      idle.pop_back();
      launch(s, std::move(queue.front()));
      queue.pop_front();
    }
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      for (auto& cand : slots) {
        if (cand.easy == m->easy_handle) s = &cand;
      }
      long status = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (m->data.result != CURLE_OK || status >= 300) ++errors;
      if (s->req.method == "POST" && s->req.group < 0) user_ids.push_back(IdOf(s->response));
      if (s->req.group >= 0) {
        group_ids[static_cast<size_t>(s->req.group)] = IdOf(s->response);
        ++groups_done;
      }
      curl_multi_remove_handle(multi, m->easy_handle);
      idle.push_back(s);
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("requests=%ld errors=%ld seconds=%.3f rps=%.1f\n", sent, errors, secs,
              static_cast<double>(sent) / secs);
  for (auto& s : slots) {
    curl_slist_free_all(s.headers);
    curl_easy_cleanup(s.easy);
  }
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return errors == 0 ? 0 : 1;
}
