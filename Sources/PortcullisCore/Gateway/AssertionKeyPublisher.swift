import Foundation

/// The keys that sign the identity assertions sent upstream, as the admin API publishes and
/// rotates them. The server wires the data path's `AssertionKeyRing` in.
package protocol AssertionKeyPublisher: Sendable {
    /// `/_portcullis/jwks.json`: every published key, current, upcoming and retiring.
    var jwks: Data { get }
    /// The published keys' ids.
    var keyIDs: [String] { get }
    /// Rotates now: a new key signs from this moment; the old one stays published. Answers the
    /// new key id.
    @discardableResult
    func rotateNow(now: Date) async throws -> String
}
