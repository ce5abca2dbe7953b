// The pod sandbox's "pause" process of the node tier (no registry to pull registry.k8s.io/pause from).
module stateless-operator.local/tools/cluster/go/pause

go 1.26.0
