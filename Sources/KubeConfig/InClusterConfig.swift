import Foundation

/// Configuration of a pod talking to its own cluster through its service account.
///
/// Guarantees: the token is supplied as `.tokenFile`, so a rotated projected token is used
/// as soon as the kubelet writes it; a missing `ca.crt` means the system trust store, as
/// client-go falls back; a missing `namespace` file means "default".
public enum InClusterConfig {
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// `root` prefixes the service-account directory so tests can use a temporary tree.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment, root: String = "/"
    ) throws(KubeConfigError) -> ClusterConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw KubeConfigError(file: nil, context: nil, field: "KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT",
                                  problem: "not running in a cluster: both environment variables must be set")
        }
        let directory = ((root as NSString).appendingPathComponent(String(serviceAccountDirectory.dropFirst())) as NSString).standardizingPath
        let tokenPath = (directory as NSString).appendingPathComponent("token")
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeConfigError(file: tokenPath, context: nil, field: nil, problem: "service-account token not found or unreadable")
        }
        let caPath = (directory as NSString).appendingPathComponent("ca.crt")
        let ca = FileManager.default.contents(atPath: caPath).map { Array($0) }
        let namespace = FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent("namespace"))
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return ClusterConnection(
            server: "https://\(hostPart):\(port)",
            certificateAuthorityPEM: ca,
            namespace: (namespace?.isEmpty == false ? namespace : nil) ?? "default",
            credentials: CredentialProvider(source: .tokenFile(path: tokenPath)),
            origin: "in-cluster")
    }
}
