import Crypto
import Foundation

/// Headers the data path sets on requests it passes to the control plane.
public enum ControlPlaneHeaders {
    public static let token = "X-Portcullis-Internal-Token"
    public static let clientAddress = "X-Portcullis-Client-Address"
    /// The verified caller: user id, how they authenticated, which credential, MFA.
    public static let callerUser = "X-Portcullis-Caller-User"
    public static let callerMethod = "X-Portcullis-Caller-Method"
    public static let callerCredential = "X-Portcullis-Caller-Credential"
    public static let callerMFA = "X-Portcullis-Caller-MFA"
    /// Why a presented credential was refused (`session_revoked`, …).
    public static let callerRejected = "X-Portcullis-Caller-Rejected"

    static func makeToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64URLEncodedString() }
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5).
    public func base64URLEncodedString() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
