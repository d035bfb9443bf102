// The version every Cairn program reports (INFO's cairn_version, backup manifests).

public enum CairnVersion {
    public static let current = "0.1.0"
}
