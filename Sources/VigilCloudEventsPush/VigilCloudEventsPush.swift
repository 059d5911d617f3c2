// VigilCloudEventsPush: an HTTP push endpoint for cloud records (in progress).
