/// The configuration and the access policy the running gateway holds (swapped on reload), as
/// the control plane reads them. The server wires the data path's `GatewayRuntime` in.
package protocol ActivePolicy: Sendable {
    var configuration: GatewayConfiguration { get }
    var policy: AccessPolicy { get }
}
