/// A kubeconfig (or in-cluster configuration) that cannot be used, naming where and why.
///
/// Guarantees: never contains a token, password, key or exec environment value; file paths,
/// context names and field paths are not secret and are included.
/// Example: `kubeconfig /home/me/.kube/config: context "dev": users[name=bob].user.client-key: file not found`.
public struct KubeConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kubeconfig file (or other file, such as a service-account token) at fault.
    public var file: String?
    public var context: String?
    /// Path of the bad or missing field, e.g. `clusters[name=prod].cluster.server`.
    public var field: String?
    public var problem: String

    public init(file: String?, context: String?, field: String?, problem: String) {
        self.file = file
        self.context = context
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var text = "kubeconfig"
        if let file { text += " \(file)" }
        if let context { text += ": context \"\(context)\"" }
        if let field { text += ": \(field)" }
        return text + ": " + problem
    }
}
