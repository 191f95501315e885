import Foundation
import Testing
import PortcullisControlPlane

extension ServerTests {
@Suite("Refresh tokens at rest")
struct RefreshTokenSealerTests {
    @Test("sealed tokens open only with the same key and for the same user; short keys are refused")
    func sealing() throws {
        let sealer = try #require(RefreshTokenSealer(secret: String(repeating: "k", count: 32)))
        let sealed = try #require(sealer.seal("refresh-token-value", userID: "u1"))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("refresh-token-value"))
        #expect(sealer.open(sealed, userID: "u1") == "refresh-token-value")
        #expect(sealer.open(sealed, userID: "u2") == nil, "a token moved to another user's row does not open")
        #expect(try #require(RefreshTokenSealer(secret: String(repeating: "x", count: 32))).open(sealed, userID: "u1") == nil)
        var tampered = sealed
        tampered[tampered.count / 2] ^= 1
        #expect(sealer.open(tampered, userID: "u1") == nil)
        #expect(sealer.open([1, 2, 3], userID: "u1") == nil)
        #expect(sealer.seal("refresh-token-value", userID: "u1") != sealed, "every sealing has its own nonce")
        #expect(RefreshTokenSealer(secret: "too short") == nil)
    }
}
}
