/**
 * The check-in, one screen drawing each :shell [CheckInStep]: pick the person on a
 * shared phone; "Mencari lokasi…"; a blocked location with the way out (the right
 * settings page, or try again); the location verdict before the camera opens, with
 * the kind of attendance and "Lanjut", or outside the office "Coba lagi" and "Tetap
 * catat"; the office monitor's QR (back camera); the selfie (front camera); signing;
 * "Tercatat" at once, then the server's decision and its reasons when it comes.
 *
 * Runtime permissions are asked here, before the flow needs them: location before it
 * starts, the camera before the QR or selfie step (a refusal goes to the flow, which
 * explains it). Texts about attendance, places, problems and permissions are :shell's.
 */
package id.go.hadir.app.ui.checkin

import android.Manifest
import androidx.activity.compose.BackHandler
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.aspectRatio
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.heightIn
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.selection.selectable
import androidx.compose.foundation.selection.selectableGroup
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Card
import androidx.compose.material3.CardDefaults
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.RadioButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.semantics.Role
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.LifecycleResumeEffect
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import id.go.hadir.app.R
import id.go.hadir.app.camera.SelfieCamera
import id.go.hadir.app.ui.common.BigButton
import id.go.hadir.app.ui.common.BigTouch
import id.go.hadir.app.ui.common.HadirScaffold
import id.go.hadir.app.ui.common.PermissionCard
import id.go.hadir.app.ui.common.ProblemCard
import id.go.hadir.app.ui.common.QrScannerView
import id.go.hadir.app.ui.common.ScreenColumn
import id.go.hadir.app.ui.common.SecondButton
import id.go.hadir.app.ui.common.SelfieCameraView
import id.go.hadir.app.ui.common.isGranted
import id.go.hadir.app.ui.common.openSettingsFor
import id.go.hadir.app.ui.common.permissionStatus
import id.go.hadir.shell.AppPermission
import id.go.hadir.shell.CheckInStep
import id.go.hadir.shell.Decision
import id.go.hadir.shell.PermissionExplanation
import id.go.hadir.shell.Permissions
import id.go.hadir.shell.Remedy
import id.go.hadir.shell.Teks
import kotlinx.coroutines.launch

/** Android 12+ grants precise location only when both are asked for together. */
private val LOCATION_PERMISSIONS = arrayOf(Manifest.permission.ACCESS_FINE_LOCATION, Manifest.permission.ACCESS_COARSE_LOCATION)

/** The check-in screen; [onDone] leaves it (back to home). */
@Composable
fun CheckInScreen(viewModel: CheckInViewModel, onDone: () -> Unit) {
    val step by viewModel.step.collectAsStateWithLifecycle()
    val locationExplanation = rememberLocationGate(viewModel, isIdle = step is CheckInStep.Idle)
    val cameraGranted = rememberCameraGate(viewModel, needsCamera = step is CheckInStep.ScanQr || step is CheckInStep.TakeSelfie)
    val signing = step is CheckInStep.Recording
    // Leaving while the check-in is signed and written could cut it off mid-way.
    BackHandler(enabled = signing) { }

    HadirScaffold(stringResource(R.string.checkin_title), onBack = if (signing) null else onDone) { padding ->
        ScreenColumn(padding, Modifier.verticalScroll(rememberScrollState())) {
            when (val s = step) {
                CheckInStep.Idle -> {
                    val explanation = locationExplanation.explanation
                    if (explanation != null) {
                        PermissionCard(explanation, onAskAgain = locationExplanation.ask)
                    } else {
                        Waiting(stringResource(R.string.checkin_locating))
                    }
                }
                is CheckInStep.PickPerson -> PickPerson(s, viewModel)
                is CheckInStep.Locating -> Waiting("${s.person.displayName}\n${stringResource(R.string.checkin_locating)}")
                is CheckInStep.LocationBlocked -> LocationBlocked(s, viewModel)
                is CheckInStep.LocationChecked -> LocationChecked(s, viewModel)
                is CheckInStep.ScanQr -> ScanQr(s, cameraGranted, viewModel)
                is CheckInStep.TakeSelfie -> TakeSelfie(s, cameraGranted, viewModel)
                is CheckInStep.Recording -> Waiting(stringResource(R.string.checkin_recording))
                is CheckInStep.Recorded -> Recorded(s, onDone)
                is CheckInStep.Failed -> ProblemCard(
                    s.problem,
                    onRetry = { if (s.person != null) viewModel.retryLocation() else viewModel.start() },
                )
            }
        }
    }
}

/** The location permission's state: its explanation after a refusal, and how to ask again. */
private class LocationGate(val explanation: PermissionExplanation?, val ask: () -> Unit)

/**
 * Asks for precise location once when the screen opens (unless granted) and starts
 * the flow as soon as it is granted, now or after a trip to the phone's settings; a
 * refusal is explained with :shell's texts.
 */
@Composable
private fun rememberLocationGate(viewModel: CheckInViewModel, isIdle: Boolean): LocationGate {
    val context = LocalContext.current
    var begun by rememberSaveable { mutableStateOf(false) }
    var asked by rememberSaveable { mutableStateOf(false) }
    var explanation by remember { mutableStateOf<PermissionExplanation?>(null) }
    val begin = {
        begun = true
        explanation = null
        viewModel.start()
    }
    val launcher = rememberLauncherForActivityResult(ActivityResultContracts.RequestMultiplePermissions()) { results ->
        if (results[Manifest.permission.ACCESS_FINE_LOCATION] == true) {
            begin()
        } else {
            val status = context.permissionStatus(Manifest.permission.ACCESS_FINE_LOCATION, asked = true)
            explanation = Permissions.explain(AppPermission.LOCATION, status)
        }
    }
    val ask = {
        asked = true
        launcher.launch(LOCATION_PERMISSIONS)
    }
    LaunchedEffect(Unit) {
        if (!begun && isIdle && !asked) {
            if (context.isGranted(Manifest.permission.ACCESS_FINE_LOCATION)) begin() else ask()
        }
    }
    LifecycleResumeEffect(explanation) {
        if (explanation != null && context.isGranted(Manifest.permission.ACCESS_FINE_LOCATION)) begin()
        onPauseOrDispose { }
    }
    return LocationGate(explanation, ask)
}

/**
 * Asks for the camera when the flow reaches the QR or the selfie; a refusal goes to
 * the flow ([CheckInViewModel.onCameraDenied]), which explains it. True when granted.
 */
@Composable
private fun rememberCameraGate(viewModel: CheckInViewModel, needsCamera: Boolean): Boolean {
    val context = LocalContext.current
    var granted by remember { mutableStateOf(context.isGranted(Manifest.permission.CAMERA)) }
    var asking by rememberSaveable { mutableStateOf(false) }
    val launcher = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { ok ->
        asking = false
        granted = ok
        if (!ok) viewModel.onCameraDenied()
    }
    LaunchedEffect(needsCamera) {
        if (!needsCamera) return@LaunchedEffect
        granted = context.isGranted(Manifest.permission.CAMERA)
        if (!granted && !asking) {
            asking = true
            launcher.launch(Manifest.permission.CAMERA)
        }
    }
    return granted
}

/** A spinner and what is happening. */
@Composable
private fun Waiting(text: String) {
    Column(Modifier.fillMaxWidth().padding(vertical = 32.dp), horizontalAlignment = Alignment.CenterHorizontally) {
        CircularProgressIndicator(Modifier.size(56.dp))
        Text(text, style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(top = 16.dp))
    }
}

/** A shared phone: one large button per person. */
@Composable
private fun PickPerson(step: CheckInStep.PickPerson, viewModel: CheckInViewModel) {
    Text(stringResource(R.string.checkin_pick), style = MaterialTheme.typography.titleLarge)
    for (person in step.people) {
        BigButton(person.displayName, { viewModel.pickPerson(person) })
    }
}

/** Why the flow stops, and the way out: the right settings page, or try again. */
@Composable
private fun LocationBlocked(step: CheckInStep.LocationBlocked, viewModel: CheckInViewModel) {
    val context = LocalContext.current
    SectionCardText(step.message)
    when (step.remedy) {
        Remedy.OPEN_SETTINGS -> {
            BigButton(stringResource(R.string.action_open_settings), { context.openSettingsFor(step.block) })
            // Back from the settings: go on from here.
            SecondButton(stringResource(R.string.action_retry), viewModel::retryLocation)
        }
        Remedy.RETRY -> BigButton(stringResource(R.string.action_retry), viewModel::retryLocation)
        else -> Unit
    }
}

/** The verdict before the camera: the headline, the kind, and go on (or try again). */
@Composable
private fun LocationChecked(step: CheckInStep.LocationChecked, viewModel: CheckInViewModel) {
    Text(
        step.headline,
        style = MaterialTheme.typography.headlineSmall,
        color = if (step.looksOk) MaterialTheme.colorScheme.primary else MaterialTheme.colorScheme.error,
    )
    Text(stringResource(R.string.checkin_kind), style = MaterialTheme.typography.titleMedium)
    Column(Modifier.selectableGroup()) {
        for (kind in step.kinds) {
            Row(
                modifier = Modifier
                    .fillMaxWidth()
                    .heightIn(min = BigTouch)
                    .selectable(selected = kind == step.kind, onClick = { viewModel.chooseKind(kind) }, role = Role.RadioButton),
                verticalAlignment = Alignment.CenterVertically,
            ) {
                RadioButton(selected = kind == step.kind, onClick = null)
                Text(Teks.attendance(kind), style = MaterialTheme.typography.bodyLarge)
            }
        }
    }
    if (step.looksOk) {
        BigButton(stringResource(R.string.action_continue), viewModel::proceed)
    } else {
        BigButton(stringResource(R.string.action_retry), viewModel::retryLocation)
        SecondButton(stringResource(R.string.checkin_record_anyway), viewModel::proceed)
    }
}

/** The office monitor's QR through the back camera. */
@Composable
private fun ScanQr(step: CheckInStep.ScanQr, cameraGranted: Boolean, viewModel: CheckInViewModel) {
    Text(stringResource(R.string.checkin_scan_qr), style = MaterialTheme.typography.titleLarge)
    step.problem?.let { ProblemCard(it) }
    if (cameraGranted) {
        QrScannerView(onQr = viewModel::onQrScanned, modifier = Modifier.fillMaxWidth().aspectRatio(3f / 4f))
    }
}

/** The front camera and its shutter; a refused photo's problem above it. */
@Composable
private fun TakeSelfie(step: CheckInStep.TakeSelfie, cameraGranted: Boolean, viewModel: CheckInViewModel) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val camera = remember { SelfieCamera(context) }
    var capturing by remember { mutableStateOf(false) }
    var captureFailed by remember { mutableStateOf(false) }
    Text(stringResource(R.string.checkin_selfie), style = MaterialTheme.typography.titleLarge)
    step.problem?.let { ProblemCard(it) }
    if (captureFailed) SectionCardText(stringResource(R.string.checkin_capture_failed))
    if (cameraGranted) {
        SelfieCameraView(camera, Modifier.fillMaxWidth().aspectRatio(3f / 4f))
        Shutter(enabled = !capturing) {
            scope.launch {
                capturing = true
                captureFailed = false
                try {
                    viewModel.onSelfieTaken(camera.capture())
                } catch (e: kotlinx.coroutines.CancellationException) {
                    throw e
                } catch (e: Exception) {
                    // ImageCaptureException, or the temporary file (no space, I/O): the
                    // person takes the photo again; nothing must crash the app here.
                    captureFailed = true
                } finally {
                    capturing = false
                }
            }
        }
    }
}

/** The shutter button. */
@Composable
private fun Shutter(enabled: Boolean, onClick: () -> Unit) {
    BigButton(
        stringResource(R.string.checkin_shutter),
        onClick,
        enabled = enabled,
    )
}

/** "Tercatat" at once; the delivery line; the server's decision and reasons when they come. */
@Composable
private fun Recorded(step: CheckInStep.Recorded, onDone: () -> Unit) {
    Text(stringResource(R.string.checkin_recorded), style = MaterialTheme.typography.displayMedium, color = MaterialTheme.colorScheme.primary)
    Text(step.headline, style = MaterialTheme.typography.titleLarge)
    Text(step.delivery, style = MaterialTheme.typography.bodyLarge)
    val decision = step.decision
    if (decision != null) {
        DecisionCard(decision)
    } else {
        Row(verticalAlignment = Alignment.CenterVertically) {
            CircularProgressIndicator(Modifier.size(24.dp))
            Text(stringResource(R.string.checkin_waiting_decision), Modifier.padding(start = 12.dp))
        }
    }
    BigButton(stringResource(R.string.checkin_done), onDone)
}

/** The server's decision: its title, its message and each reason. */
@Composable
private fun DecisionCard(decision: Decision) {
    val colors = if (decision.accepted) {
        CardDefaults.cardColors(
            containerColor = MaterialTheme.colorScheme.primaryContainer,
            contentColor = MaterialTheme.colorScheme.onPrimaryContainer,
        )
    } else {
        CardDefaults.cardColors(
            containerColor = MaterialTheme.colorScheme.errorContainer,
            contentColor = MaterialTheme.colorScheme.onErrorContainer,
        )
    }
    Card(Modifier.fillMaxWidth(), colors = colors) {
        Column(Modifier.padding(16.dp)) {
            Text(decision.title, style = MaterialTheme.typography.headlineSmall)
            if (decision.message.isNotBlank()) Text(decision.message, style = MaterialTheme.typography.bodyLarge)
            for (reason in decision.reasons) Text("• $reason", style = MaterialTheme.typography.bodyLarge)
        }
    }
}

/** A message in a plain card. */
@Composable
private fun SectionCardText(text: String) {
    Card(Modifier.fillMaxWidth()) {
        Box(Modifier.padding(16.dp)) { Text(text, style = MaterialTheme.typography.bodyLarge) }
    }
}
