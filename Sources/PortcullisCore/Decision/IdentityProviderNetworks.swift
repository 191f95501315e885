/// The gateway's endpoints that the identity provider calls from its own servers: SCIM
/// provisioning (`/_portcullis/scim/…`) and back-channel logout
/// (`/_portcullis/backchannel-logout`). The tenant greenlist is for people: an IdP's servers are
/// not in it, and refusing them would silently stop deprovisioning and logouts. These endpoints
/// take their own allowlist instead (issue 21 item 14): `identity.scim.allowed_networks` and
/// `identity.oidc.backchannel_allowed_networks`. Without one, the endpoint answers to the tenant
/// greenlist like everything else (and to any address when there is none), and a refusal there
/// is logged as an error: configuring the allowlist never opens an endpoint wider by accident,
/// and not configuring it keeps what the tenant greenlist promised.
public struct IdentityProviderNetworks: Hashable, Sendable {
    public enum Endpoint: String, Hashable, Sendable {
        case scim
        case backchannelLogout = "backchannel_logout"

        /// The configuration key of its allowlist, for refusals and logs.
        public var allowlistKey: String {
            switch self {
            case .scim: "identity.scim.allowed_networks"
            case .backchannelLogout: "identity.oidc.backchannel_allowed_networks"
            }
        }

        /// The endpoint a normalised path is, spelled exactly as the control plane routes it
        /// (another spelling is no such endpoint, and the tenant greenlist applies to it).
        public init?(_ path: NormalizedPath) {
            let segments = path.segments
            guard segments.count >= 2, segments[0] == Route.reservedSegment else { return nil }
            switch segments[1] {
            case "scim": self = .scim
            case "backchannel-logout" where segments.count == 2: self = .backchannelLogout
            default: return nil
            }
        }
    }

    public var scim: [IPRange]?
    public var backchannelLogout: [IPRange]?

    public init(scim: [IPRange]? = nil, backchannelLogout: [IPRange]? = nil) {
        self.scim = scim
        self.backchannelLogout = backchannelLogout
    }

    /// The allowlist of an endpoint; `nil` when it answers to the tenant greenlist.
    public func allowlist(for endpoint: Endpoint) -> [IPRange]? {
        switch endpoint {
        case .scim: scim
        case .backchannelLogout: backchannelLogout
        }
    }
}
