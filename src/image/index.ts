// Image layers, per-container write layers, volumes and commit: the library
// the runtime calls.  Nothing here mounts the container root: the shim does,
// inside the container's mount namespace, from overlayMountPlan().
export type { LayerRef } from './store';
export { ensureLayers, prune, lockStore, layerPath } from './store';
export type { ImageSource, ImageConfig } from './source';
export { parseLayerSource, imageConfigFor } from './source';
export type { ContainerStorage, OverlayPlan, Volume } from './overlay';
export {
  createContainerStorage,
  containerStorage,
  overlayMountPlan,
  removeContainerStorage,
  prepareVolumes,
  parseVolume,
} from './overlay';
export type { CommitOptions } from './commit';
export { commitContainer } from './commit';
export { LayerError } from './unpack';
