// Where each matrix row came from, so support staff can re-check a row against the vendor's own page.

/** A citation: the vendor document, the table in it, and the public copy we read it from. */
export interface Source {
  url: string;
  table?: string;
  /** Public copy the row was read from when the vendor page itself was not at hand. */
  via?: string;
}

export const CUDA_RELEASE_NOTES: Source = {
  url: "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html",
  table: "Table 3 CUDA Toolkit and Corresponding Driver Versions (CUDA 13.2 release notes)",
  via: "a public Markdown copy of the CUDA 13.2 release notes (GitHub code index id 53820105428)",
};
export const CUDA_MINOR_COMPAT: Source = {
  url: "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html",
  table: "Table 2 CUDA Toolkit and Minimum Required Driver Version for CUDA Minor Version Compatibility",
  via: "a public Markdown copy of the CUDA 13.2 release notes (GitHub code index id 53820105428)",
};
export const CONTAINERD_RELEASES: Source = {
  url: "https://github.com/containerd/containerd/blob/main/RELEASES.md#kubernetes-support",
  table: "Kubernetes Support",
  via: "containerd/containerd RELEASES.md at commit 007244d86cabfec3641d2e216f4d13a8245029f8",
};
export const CONTAINERD_RELEASES_SITE: Source = {
  url: "https://containerd.io/releases/#kubernetes-support",
  table: "Kubernetes Support",
  via: "quoted in a public kubeadm lab write-up (GitHub code index id 51764670614) citing containerd.io/releases",
};
export const KUBEADM_SYSTEM_VALIDATORS: Source = {
  url: "https://github.com/kubernetes/system-validators/blob/master/validators/types_unix.go",
  table: "DefaultSysSpec.KernelSpec.Versions (\"Requires 3.10+, or newer\")",
};
export const KUBEADM_INSTALL: Source = {
  url: "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/",
  table: "Before you begin: 2 GB or more of RAM per machine, 2 CPUs or more for control plane machines",
};
export const MLNX_OFED_58: Source = {
  url: "https://docs.nvidia.com/networking/display/MLNXOFEDv581011/General+Support",
  table: "MLNX_OFED 5.8-1.0.1.1 LTS General Support: Supported Operating Systems",
};
export const MLNX_OFED_59: Source = {
  url: "https://docs.nvidia.com/networking/display/MLNXOFEDv590560125/General+Support",
  table: "MLNX_OFED 5.9-0.5.6.0.125 General Support: Supported Operating Systems",
};
export const OMSTACK_POLICY: Source = {
  url: "docs/preflight.md#sizing-policy",
  table: "OMStack sizing policy (this repository): what the platform's own services need on top of Kubernetes",
};
