#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The SHA-256 of a session id. Only this is stored; the id itself lives in the cookie.
public struct SessionIDHash: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Lower-case hex, for logs that must identify a session without revealing it.
    public var hex: String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            digits.withUTF8Buffer { digits in
                for (offset, byte) in bytes.enumerated() {
                    buffer[offset * 2] = digits[Int(byte >> 4)]
                    buffer[offset * 2 + 1] = digits[Int(byte & 0x0F)]
                }
            }
            return bytes.count * 2
        }
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes: bytes)
    }

    public var description: String { String(hex.prefix(12)) }
}

/// One session (SPEC §3).
public struct SessionRecord: Hashable, Sendable {
    public var idHash: SessionIDHash
    public var userID: String
    public var createdAt: Date
    public var lastSeenAt: Date
    /// Never valid after this, however active (created + absolute timeout).
    public var absoluteExpiresAt: Date
    public var createdIP: IPAddress
    public var lastIP: IPAddress
    public var createdLocation: GeoLocation
    public var lastLocation: GeoLocation
    public var userAgent: String
    public var device: DeviceInfo
    public var authMethod: AuthenticationMethod
    /// The IdP's session id (`sid`), for back-channel logout.
    public var idpSessionID: String?
    public var amr: [String]
    public var acr: String?
    /// The login proved a second factor.
    public var mfa: Bool
    public var revokedAt: Date?
    public var revokedBy: String?
    public var revokedReason: String?
    /// Set while a `step_up` flag awaits a fresh sign-in: the session is refused
    /// (`step_up_required`) until then, or until the flag is dismissed.
    public var stepUpRequiredAt: Date?
    /// When the user signed in at the identity provider for this session (the ID token's
    /// `auth_time`, never later than the session's start); `nil` when the IdP did not say.
    public var authenticatedAt: Date?

    public init(
        idHash: SessionIDHash, userID: String, createdAt: Date, lastSeenAt: Date, absoluteExpiresAt: Date,
        createdIP: IPAddress, lastIP: IPAddress, createdLocation: GeoLocation, lastLocation: GeoLocation,
        userAgent: String, device: DeviceInfo, authMethod: AuthenticationMethod, idpSessionID: String?,
        amr: [String], acr: String?, mfa: Bool, revokedAt: Date? = nil, revokedBy: String? = nil, revokedReason: String? = nil,
        stepUpRequiredAt: Date? = nil, authenticatedAt: Date? = nil
    ) {
        self.idHash = idHash
        self.userID = userID
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.absoluteExpiresAt = absoluteExpiresAt
        self.createdIP = createdIP
        self.lastIP = lastIP
        self.createdLocation = createdLocation
        self.lastLocation = lastLocation
        self.userAgent = userAgent
        self.device = device
        self.authMethod = authMethod
        self.idpSessionID = idpSessionID
        self.amr = amr
        self.acr = acr
        self.mfa = mfa
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.revokedReason = revokedReason
        self.stepUpRequiredAt = stepUpRequiredAt
        self.authenticatedAt = authenticatedAt
    }

    /// When the session stops being valid: the earlier of idle and absolute expiry.
    public func expiresAt(idleTimeout: Duration) -> Date {
        min(absoluteExpiresAt, lastSeenAt.addingTimeInterval(idleTimeout.secondsValue))
    }

    public func isActive(at now: Date, idleTimeout: Duration) -> Bool {
        revokedAt == nil && expiresAt(idleTimeout: idleTimeout) > now
    }
}
