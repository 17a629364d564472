// The auth API: protocol workers ask loft-auth to authenticate a client or look up
// a recipient. A success carries a grant: a token signed by loft-auth that the
// storage daemon checks before it serves the user.
namespace cpp loft.rpc

enum AuthStatus {
  OK = 0,
  CONTINUE = 1,     // send the challenge to the client, then call proceed()
  FAILED = 2,
  TEMPFAIL = 3,
}

struct ClientInfo {
  1: string protocol,       // imap, pop3, lmtp
  2: string remote_ip,
  3: i32 remote_port,
  4: string local_ip,
  5: i32 local_port,
  6: bool secured,          // TLS, or remote ip == local ip, or a trusted network
  7: string session_id,
  // TLS client certificate (ids 90-99). The worker reports what its TLS layer verified;
  // loft-auth ignores 91/92 unless 90 says the transport is TLS.
  90: bool tls,             // the transport itself is TLS (not only "secured")
  91: bool valid_client_cert,  // verified against ssl_ca (and its CRLs)
  92: string cert_username, // ssl_cert_username_field of that certificate, "" if none
}

struct AuthRequest {
  1: string mechanism,
  2: ClientInfo client,
  3: optional binary initial_response,
}

struct AuthReply {
  1: AuthStatus status,
  2: i64 request,           // pass back to proceed() when CONTINUE
  3: binary challenge,      // CONTINUE: for the client; OK: the mechanism's final
                            // server message (SCRAM's verifier), empty if none
  4: string user,
  5: binary grant,
  6: string reason,         // for the client, e.g. "Authentication failed."
}

struct LookupReply {
  1: AuthStatus status,     // OK, FAILED (unknown user) or TEMPFAIL
  2: string user,
  3: binary grant,
  4: string reason,
}

service Auth {
  list<string> mechanisms(1: ClientInfo client),
  AuthReply start(1: AuthRequest request),
  AuthReply proceed(1: i64 request, 2: binary response),
  void abort(1: i64 request),
  LookupReply lookup(1: string user, 2: ClientInfo client),
}
