/**
 * Services in the simulated cluster: the Endpoints and EndpointSlice controllers that track a
 * Service's pods, kube-proxy that routes a connection to one of them, and cluster DNS that
 * names them.
 */
export {
  endpointsController,
  computeSubsets,
  repackSubsets,
  truncateSubsets,
  ENDPOINT_CONTROLLER_NAME,
  ENDPOINTS_MAX_CAPACITY,
  type EndpointsControllerOptions,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
} from "./endpoints.js";
export {
  endpointSliceController,
  planSlices,
  podToEndpoint,
  endpointPorts,
  ENDPOINTSLICE_CONTROLLER_NAME,
  ENDPOINTSLICE_EVENT_SOURCE,
  ENDPOINTSLICE_MANAGED_BY,
  DEFAULT_MAX_ENDPOINTS_PER_SLICE,
  type EndpointSliceControllerOptions,
  type SliceEndpoint,
  type SlicePort,
} from "./endpointslice.js";
export {
  kubeProxy,
  backendsFor,
  KUBE_PROXY_NAME,
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  type KubeProxy,
  type KubeProxyOptions,
  type ResolveOptions,
  type ProxyResult,
  type ProxyRoute,
  type ProxyFailure,
  type ProxyBackend,
} from "./kube-proxy.js";
export {
  clusterDNS,
  bootstrapServices,
  kubernetesService,
  kubeDnsService,
  lookup,
  resolveName,
  resolveThroughApi,
  resolverConfig,
  resolvConf,
  CLUSTER_DNS_NAME,
  CLUSTER_DOMAIN,
  DNS_TTL_SECONDS,
  KUBE_DNS_IP,
  KUBERNETES_SERVICE_IP,
  DEFAULT_NDOTS,
  type ClusterDns,
  type DnsAnswer,
  type DnsClient,
  type DnsOptions,
  type DnsRecord,
  type DnsRecordType,
  type DnsSource,
} from "./dns.js";
export {
  LABEL_SERVICE_NAME,
  LABEL_MANAGED_BY,
  LABEL_HEADLESS,
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  ANNOTATION_OVER_CAPACITY,
} from "./_util.js";
