// See lib/camera-network/connect.ts (connecting to cameras through the CAMERA_NETWORKS policy).
export * from '../../lib/camera-network/connect.js';
