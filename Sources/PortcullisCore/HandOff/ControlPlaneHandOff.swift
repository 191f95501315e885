import Foundation

/// The hand-off from the data path to the control plane, in one place: the internal headers,
/// the data path's writer and the control plane's parser. The per-process token is the data
/// path's (`GatewayRuntime.controlPlaneToken`).
///
/// The data path decides every request first, then passes `/_portcullis/` requests to the
/// control plane's loopback listener with the client address and the caller it verified. The
/// control plane believes these headers only with the per-process token; clients can never send
/// them, because every incoming `X-Portcullis-*` header is stripped on the way in.
package enum ControlPlaneHandOff {
    package enum Header {
        package static let token = "X-Portcullis-Internal-Token"
        package static let clientAddress = "X-Portcullis-Client-Address"
        /// The verified caller: user id, how they authenticated, which credential, MFA.
        package static let callerUser = "X-Portcullis-Caller-User"
        package static let callerMethod = "X-Portcullis-Caller-Method"
        package static let callerCredential = "X-Portcullis-Caller-Credential"
        package static let callerMFA = "X-Portcullis-Caller-MFA"
        /// When the caller signed in at the IdP (`auth_time`), whole seconds since 1970.
        package static let callerAuthTime = "X-Portcullis-Caller-Auth-Time"
        /// The owner of a `global` token acting as the caller (`X-Portcullis-Act-As`).
        package static let callerDelegatedBy = "X-Portcullis-Caller-Delegated-By"
        /// Why a presented credential was refused (`session_revoked`, …).
        package static let callerRejected = "X-Portcullis-Caller-Rejected"
    }

    // MARK: writer (data path)

    /// The headers for one request: the token, the client address and the caller, or why the
    /// caller's credential was refused. A user whose session or token is revoked or expired at
    /// `now` is passed on as refused, never as a caller.
    package static func headers(token: String, client: IPAddress, identity: RequestIdentity, now: Date) -> [(String, String)] {
        var headers = [(Header.token, token), (Header.clientAddress, client.description)]
        switch identity {
        case .user(let user):
            if user.isValid(at: now) {
                headers.append((Header.callerUser, user.userID))
                headers.append((Header.callerMethod, user.method.rawValue))
                if let credential = user.credentialID { headers.append((Header.callerCredential, credential)) }
                headers.append((Header.callerMFA, user.hasMFA ? "1" : "0"))
                if let at = user.authenticatedAt { headers.append((Header.callerAuthTime, String(Int64(at.timeIntervalSince1970.rounded(.down))))) }
                if let delegation = user.delegation { headers.append((Header.callerDelegatedBy, delegation.ownerEmail)) }
            } else {
                headers.append((Header.callerRejected, user.invalidityReason(at: now).rawValue))
            }
        case .rejected(let reason):
            headers.append((Header.callerRejected, reason.rawValue))
        case .anonymous:
            break
        }
        return headers
    }

    // MARK: parser (control plane)

    /// What the control plane learns from a request that came through the data path.
    package struct Received: Hashable, Sendable {
        package var clientAddress: IPAddress
        package var caller: ControlPlaneCaller?
        /// Why a presented credential was refused, when it was.
        package var rejection: ReasonCode?
    }

    /// Reads the hand-off headers through `field` (a header lookup by name). `nil` when the
    /// request did not come through the data path: no token, a wrong token, or no address.
    package static func parse(token: String, field: (String) -> String?) -> Received? {
        guard let presented = field(Header.token), ConstantTime.equal(presented, token),
              let address = field(Header.clientAddress).flatMap({ try? IPAddress(parsing: $0) })
        else { return nil }
        var received = Received(clientAddress: address)
        if let userID = field(Header.callerUser), let method = field(Header.callerMethod).flatMap(AuthenticationMethod.init(rawValue:)) {
            received.caller = ControlPlaneCaller(
                userID: userID, method: method, credentialID: field(Header.callerCredential), hasMFA: field(Header.callerMFA) == "1",
                delegatedBy: field(Header.callerDelegatedBy),
                authenticatedAt: field(Header.callerAuthTime).flatMap(Int64.init).map { Date(timeIntervalSince1970: Double($0)) }
            )
        }
        received.rejection = field(Header.callerRejected).flatMap(ReasonCode.init(rawValue:))
        return received
    }
}
