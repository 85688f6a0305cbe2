// The CAMERA_NETWORKS policy lives in lib/camera-network/ (the engine layers — ingest, media, onvif — connect to
// cameras and import nothing from server/); the server's code and tests keep this path.
export * from '../../lib/camera-network/policy.js';
