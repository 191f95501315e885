import Crypto
import Foundation
import PortcullisCore

/// The short-lived cookie that binds a login to the browser that started it: `state`, `nonce`,
/// the PKCE verifier and where to return, signed with HMAC-SHA256 under a key shared by every
/// instance (from the store). Ten minutes to finish the login.
package struct LoginStateCookie: Codable, Hashable, Sendable {
    package let state: String
    package let nonce: String
    package let verifier: String
    package let returnPath: String
    package let issuedAt: Double
    /// The login asked the IdP for a fresh, multi-factor sign-in.
    package let stepUp: Bool
    /// The login asked the IdP for a fresh sign-in (`prompt=login`, `max_age=0`) because the
    /// session was flagged for a step-up: the callback requires a recent `auth_time`.
    package let reauthenticate: Bool

    package static let lifetime: TimeInterval = 600

    enum CodingKeys: String, CodingKey {
        case state = "s", nonce = "n", verifier = "v", returnPath = "r", issuedAt = "t", stepUp = "m", reauthenticate = "a"
    }

    package init(state: String, nonce: String, verifier: String, returnPath: String, issuedAt: Date, stepUp: Bool, reauthenticate: Bool = false) {
        self.state = state
        self.nonce = nonce
        self.verifier = verifier
        self.returnPath = returnPath
        self.issuedAt = issuedAt.timeIntervalSince1970
        self.stepUp = stepUp
        self.reauthenticate = reauthenticate
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        state = try container.decode(String.self, forKey: .state)
        nonce = try container.decode(String.self, forKey: .nonce)
        verifier = try container.decode(String.self, forKey: .verifier)
        returnPath = try container.decode(String.self, forKey: .returnPath)
        issuedAt = try container.decode(Double.self, forKey: .issuedAt)
        stepUp = try container.decode(Bool.self, forKey: .stepUp)
        // Absent in cookies from before suspicious sessions (at most ten minutes old).
        reauthenticate = try container.decodeIfPresent(Bool.self, forKey: .reauthenticate) ?? false
    }

    package func sealed(with key: SymmetricKey) -> String {
        let payload = (try? JSONEncoder().encode(self)) ?? Data()
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return payload.base64URLEncodedString() + "." + Data(mac).base64URLEncodedString()
    }

    /// The cookie's content when its signature is right and it is not older than the lifetime.
    package static func open(_ text: String, key: SymmetricKey, now: Date) -> LoginStateCookie? {
        guard text.utf8.count <= 4_096 else { return nil }
        let parts = text.split(separator: ".")
        guard parts.count == 2, let payload = Data(base64URLEncoded: String(parts[0])),
              let mac = Data(base64URLEncoded: String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key),
              let cookie = try? JSONDecoder().decode(LoginStateCookie.self, from: payload)
        else { return nil }
        let age = now.timeIntervalSince1970 - cookie.issuedAt
        guard age >= -60, age <= lifetime else { return nil }
        return cookie
    }
}
