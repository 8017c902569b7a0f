-- wrk script of the bench (bench/client_bound.sh, bench/sync_bench.sh §2): POST /Users
-- with the same body as scimsync's create of one CSV user, so both sides cost the
-- responder alike.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/scim+json"
wrk.headers["Authorization"] = "Bearer benchtoken"
wrk.body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"K1",' ..
  '"userName":"user1@example.com","name":{"givenName":"Given1","familyName":"Family1"},' ..
  '"emails":[{"value":"user1@example.com","type":"work","primary":true}],"title":"Engineer",' ..
  '"active":true}'
