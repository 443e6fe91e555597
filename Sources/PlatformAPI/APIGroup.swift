/// Names of the `platform.medsearch.io` API group, shared by decoding, CRDs and children.
public enum PlatformAPIGroup {
    public static let group = "platform.medsearch.io"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(group)/\(version)"
    /// The kubectl category both kinds join, so `kubectl get medsearch` lists them together.
    public static let category = "medsearch"
}
