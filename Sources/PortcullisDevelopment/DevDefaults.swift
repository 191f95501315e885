
/// The defaults `portcullis dev` runs on when the current folder is not a checkout (no
/// `conf/portcullis.yaml`): copies of the repository's `conf/portcullis.yaml` and
/// `conf/dev-users.yaml` (a test keeps them identical).
package enum DevDefaults {
    package static let gatewayConfiguration = #"""
# Portcullis configuration (SPEC §10). Every key is described in README.md, "Configuration".
# Relative paths are relative to this file's folder. `portcullis check-config` validates it.
#
# This file is also what `portcullis dev` runs on: its built-in development identity provider
# listens on https://localhost:9443 and its echo upstream on 127.0.0.1:8080.
server:
  listen: "127.0.0.1:8443"
  public_url: "https://localhost:8443"
  tls:
    certificates:
      - { cert_file: ../certs/dev/server.pem, key_file: ../certs/dev/server-key.pem }
  internal_listen: "127.0.0.1:9090"
  trusted_proxies: []

identity:
  oidc:
    issuer: "https://localhost:9443"
    client_id: "portcullis"
    client_secret_file: ../certs/dev/oidc-client-secret   # made by `portcullis certs dev`; in production, client_secret_env or a file of mode 0640
    ca_file: ../certs/dev/ca.pem
    scopes: [openid, email, profile]
    claims: { groups: groups, department: department, name: name }
  bearer:
    audiences: ["portcullis-api"]

sessions:
  idle_timeout: 8h
  absolute_timeout: 24h
  max_staleness: 5s

store:
  sqlite: { path: ../var/portcullis.sqlite }

geoip:
  # DB-IP City Lite (CC BY 4.0), installed by scripts/install-geoip.sh. A missing file makes
  # every location "unknown" (said once at start-up).
  database: geoip/dbip-city-lite.mmdb

network:
  greenlists:
    corp:
      - { cidr: 127.0.0.0/8, label: loopback }
      - { cidr: "::1/128", label: loopback-v6 }
      - { cidr: 198.51.100.0/24, label: office }
      - { cidr: "2001:db8::/32", label: vpn }
    admins:
      - { cidr: 127.0.0.1/32, label: this-machine }
      - { cidr: "2001:db8:ad::/48", label: admin-vpn }
  tenant_greenlist: corp

routes:
  - name: teammates
    path: /admin/teammates
    upstream: "http://127.0.0.1:8080"
    require: { permission: teammates.view }
    allow_bearer: true
  - name: security
    path: /admin/security
    upstream: "http://127.0.0.1:8080"
    require: { role: super_admin }
    greenlist: admins
  - name: insights
    path: /insights
    upstream: "http://127.0.0.1:8080"
    require: { permission: insights.view }
    countries: { deny: [AU] }
  - name: answers-new
    path: /answers/new
    upstream: "http://127.0.0.1:8080"
    require: { permission: answers.create }
  - name: public
    path: /public
    upstream: "http://127.0.0.1:8080"
    require: public
  - name: app
    path: /
    upstream: "http://127.0.0.1:8080"
    require: authenticated
"""#

    package static let developmentUsers = #"""
# Users of the development identity provider that `portcullis dev` runs on
# https://localhost:9443. DEVELOPMENT ONLY: the passwords are in this file on purpose.
issuer: "https://localhost:9443"
listen: "127.0.0.1:9443"
access_token_audience: portcullis-api
client:
  client_id: portcullis
  client_secret_file: ../certs/dev/oidc-client-secret
  redirect_uris: ["https://localhost:8443/_portcullis/callback"]
  backchannel_logout_uri: "https://localhost:8443/_portcullis/backchannel-logout"
users:
  # `portcullis dev` makes the first user the super admin (as `admin bootstrap` would).
  - { email: grace@example.com, name: Grace Hopper, department: Engineering, groups: [Engineering], password: portcullis, mfa: true }
  # The seed example: direct admin + IT-Admins (setup_admin + api_token_creator) + Content-Team
  # (member + answers_moderator) once those group mappings are made.
  - { email: ada@example.com, name: Ada Lovelace, department: Engineering, groups: [IT-Admins, Content-Team], password: portcullis, mfa: true }
  - { email: alan@example.com, name: Alan Turing, department: Research, groups: [Research, Content-Team], password: portcullis }
  - { email: edith@example.com, name: Edith Clarke, department: Operations, groups: [IT-Admins], password: portcullis }
  - { email: sam@example.com, name: Sam Member, department: Sales, groups: [Sales], password: portcullis }
"""#
}
