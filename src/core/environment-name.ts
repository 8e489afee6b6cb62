// The environment a host is deployed as is the inventory group it was reached through; a host
// outside every group (an address, an ~/.ssh/config alias, the sandbox) is deployed as `default`.
// Its own module so the manifest schema can reserve the name without importing the resolver.
export const DEFAULT_ENVIRONMENT = 'default';
