import Foundation

/// A live session's requests now come from another client address (SPEC §3, "Suspicious
/// sessions"): what the session risk signals need to judge it, handed over off the request
/// path.
package struct SessionAddressChange: Hashable, Sendable {
    package var sessionIDHash: SessionIDHash
    package var userID: String
    package var device: DeviceInfo
    package var previousAddress: IPAddress
    package var previousLocation: GeoLocation
    package var address: IPAddress
    package var location: GeoLocation
    package var at: Date

    package init(
        sessionIDHash: SessionIDHash, userID: String, device: DeviceInfo, previousAddress: IPAddress, previousLocation: GeoLocation,
        address: IPAddress, location: GeoLocation, at: Date
    ) {
        self.sessionIDHash = sessionIDHash
        self.userID = userID
        self.device = device
        self.previousAddress = previousAddress
        self.previousLocation = previousLocation
        self.address = address
        self.location = location
        self.at = at
    }
}
