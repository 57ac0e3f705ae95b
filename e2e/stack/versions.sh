# Pinned versions of everything the local test stack builds or installs.
# Bumping one of these makes the next `npm run stack:up` build it once into the cache.
: "${K8S_VERSION:=v1.34.4}"               # kube-apiserver, from the k8s.io/kubernetes module
: "${ETCD_VERSION:=v3.6.16}"              # etcd, from the go.etcd.io/etcd/server/v3 module
: "${COSIGN_VERSION:=v2.6.5}"             # cosign, the version Tekton Chains v0.29.2 pins
: "${TEKTON_PIPELINE_VERSION:=v1.15.0}"   # Tekton CRDs, the Pipeline release Chains v0.29.2 pins
